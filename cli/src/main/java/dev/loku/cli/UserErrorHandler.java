package dev.loku.cli;

import picocli.CommandLine;

/**
 * Turns exceptions from a command into a one-line message on stderr. A {@link UserException} is the user's to fix
 * (bad path, unknown model, bad input) and is printed as it is; anything else is a bug and also prints its type.
 * Stack traces only appear with {@code LOKU_DEBUG=1}.
 */
final class UserErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        if (System.getenv("LOKU_DEBUG") != null) {
            ex.printStackTrace(System.err);
        }
        String message = ex.getMessage() == null ? "" : ex.getMessage();
        if (ex instanceof UserException) {
            cmd.getErr().println("loku: " + message);
            return 2;
        }
        cmd.getErr().println("loku: internal error (" + ex.getClass().getSimpleName() + "): " + message
                + " (rerun with LOKU_DEBUG=1 for details)");
        return 1;
    }
}
