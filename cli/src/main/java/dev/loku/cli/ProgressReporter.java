package dev.loku.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of a long command on stderr, one line per epoch. On a terminal (System.console() present) a bar is redrawn
 * in place and the epoch lines scroll above it; otherwise (logs, pipes, tests) plain lines only.
 */
final class ProgressReporter {

    private static final int WIDTH = 30;

    private final PrintStream err;
    private final boolean terminal;
    private final String label;
    private final int total;
    private boolean barShown;

    ProgressReporter(String label, int total) {
        // On Java 17 a console object exists only when stdin and stdout are a terminal.
        this(System.err, System.console() != null, label, total);
    }

    ProgressReporter(PrintStream err, boolean terminal, String label, int total) {
        this.err = err;
        this.terminal = terminal;
        this.label = label;
        this.total = total;
    }

    /** Prints {@code line} and, on a terminal, redraws the bar at {@code done} of {@code total}. */
    synchronized void step(int done, String line) {
        if (terminal && barShown) {
            err.print("\r\033[2K");
        }
        err.println(line);
        if (terminal) {
            int filled = total <= 0 ? WIDTH : (int) Math.min(WIDTH, (long) WIDTH * done / total);
            err.print(String.format(Locale.ROOT, "%s [%s%s] %d/%d", label, "#".repeat(filled),
                    ".".repeat(WIDTH - filled), done, total));
            barShown = true;
        }
        err.flush();
    }

    /** Ends the bar's line on a terminal. */
    synchronized void finish() {
        if (terminal && barShown) {
            err.println();
            barShown = false;
        }
        err.flush();
    }
}
