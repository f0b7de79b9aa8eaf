package dev.loku.core.data;

/**
 * A data file a user supplied cannot be used. The message names the file and line and says what is wrong; it never
 * quotes the line's content, which may be the personal data being erased.
 */
public final class InvalidDataException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final int lineNumber;

    public InvalidDataException(String source, int lineNumber, String problem) {
        super(source + (lineNumber > 0 ? " line " + lineNumber : "") + ": " + problem);
        this.source = source;
        this.lineNumber = lineNumber;
    }

    public String source() {
        return source;
    }

    /** 1-based; 0 when the problem concerns the whole file. */
    public int lineNumber() {
        return lineNumber;
    }
}
