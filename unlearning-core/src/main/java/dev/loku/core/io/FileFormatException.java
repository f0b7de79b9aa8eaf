package dev.loku.core.io;

import java.io.IOException;
import java.nio.file.Path;

/** A file exists but its content is not what the reader expects. The message is "FILE: problem", one line. */
public class FileFormatException extends IOException {
    private final transient Path file;

    public FileFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public FileFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
