package dev.loku.cli;

import ai.djl.Device;
import dev.loku.core.data.InvalidDataException;
import dev.loku.core.model.Devices;
import dev.loku.core.model.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What the engine commands (finetune, unlearn, eval) share: checking the files a user named before any work starts,
 * and turning the engine's user-caused failures into one-line {@link UserException}s. Messages name files and lines,
 * never record text (the data may be personal data being erased).
 */
final class DataFiles {

    private DataFiles() {}

    /** @throws UserException when {@code file} is not a readable regular file */
    static Path requireFile(String option, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserException(option + ": no such file: " + file
                    + (Files.isDirectory(file) ? " (it is a folder; give a JSONL file)" : ""));
        }
        return file;
    }

    /** @throws UserException when the model path does not exist */
    static Path requireModel(Path model) {
        if (!Files.exists(model)) {
            throw new UserException("--model: no such file or folder: " + model
                    + " (give a Hugging Face folder or a llama2.c .bin)");
        }
        return model;
    }

    static Device device(String spec) {
        try {
            return Devices.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new UserException("--device: " + e.getMessage(), e);
        }
    }

    /** A body that may fail the ways the engine fails. */
    interface EngineCall<T> {
        T call() throws IOException, InterruptedException;
    }

    /**
     * Runs {@code body}, mapping bad data, bad models, bad settings and I/O failures to {@link UserException}; an
     * interrupt (Ctrl-C in a shell delivers a signal instead) restores the flag and reports the stop.
     */
    static <T> T run(EngineCall<T> body) {
        try {
            return body.call();
        } catch (InvalidDataException | ModelLoadException | IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new UserException("no such file: " + e.getFile(), e);
        } catch (IOException e) {
            throw new UserException("I/O failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted", e);
        }
    }
}
