package dev.loku.cli;

import dev.loku.core.model.CausalLm;
import dev.loku.core.model.Devices;
import dev.loku.core.model.ModelLoadException;
import dev.loku.core.model.ModelLoader;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command that loads a model shares: where the model is and which device runs it. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "A Hugging Face folder (config.json + safetensors + tokenizer.json), a llama2.c .bin, or a"
                    + " folder holding one (e.g. models/stories260K).")
    Path model;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "DEVICE",
            description = "auto (a GPU when one is found), cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    /** Loads the model; anything the user can fix becomes a one-line {@link UserException}. */
    CausalLm load() {
        try {
            return ModelLoader.load(model, Devices.parse(device));
        } catch (ModelLoadException | IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
    }
}
