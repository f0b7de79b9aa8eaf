package dev.loku.core.model;

/**
 * A model could not be loaded or written because of something the user can fix: a missing file, an unsupported
 * architecture, a tensor of the wrong shape. The message is one line and names the file (and the tensor, when one
 * is at fault); the CLI prints it as it is, without a stack trace.
 */
public class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
