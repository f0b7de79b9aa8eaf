package dev.loku.runtime.artifact;

import java.io.IOException;

/**
 * The artifact store failed every try of one operation ({@code artifacts.retry.*}) with an error that may pass: the
 * volume is full, unwritable or unreachable. Thrown by {@link RetryingArtifactStore} in place of the last try's
 * error (its cause). It says the store is out of order, not that the job's input is bad, so the job runner waits
 * and runs the job again instead of failing the forget set (docs/reliability.md, "artifact store full"). Missing and
 * corrupt artifacts are never this exception: retrying cannot change them.
 */
public class ArtifactStoreUnavailableException extends IOException {

    private static final long serialVersionUID = 1L;

    public ArtifactStoreUnavailableException(String operation, int attempts, IOException last) {
        super("the artifact store failed " + operation + " " + attempts + " times in a row ("
                + last.getClass().getSimpleName() + ")", last);
    }

    /** Whether {@code error} or one of its causes says a store the stage needs is out of order. */
    public static boolean in(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ArtifactStoreUnavailableException || t instanceof StorageUnavailableException) {
                return true;
            }
        }
        return false;
    }
}
