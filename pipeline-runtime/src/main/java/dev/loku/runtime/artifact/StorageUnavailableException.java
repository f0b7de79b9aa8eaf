package dev.loku.runtime.artifact;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * A store a stage needs (the artifact store, the ledger, the data key store) failed to read or write: the volume is
 * full, unwritable or gone. It is not the record's fault, so nothing is rejected or dead-lettered for it: ingest
 * rolls the transaction back and replaces its stream thread after a pause that doubles, so the same records are
 * processed again once the store works (docs/reliability.md, "artifact store full"). The message names ids and the
 * operation, never content; the cause is the file system's error.
 */
public class StorageUnavailableException extends UncheckedIOException {

    private static final long serialVersionUID = 1L;

    public StorageUnavailableException(String message, IOException cause) {
        super(message, cause);
    }

    /** The last error of {@code error}'s cause chain: the file system's own, under the stores' wrappers. */
    public static Throwable rootCause(Throwable error) {
        Throwable t = error;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    /** The first {@code StorageUnavailableException} in {@code error}'s cause chain, if any. */
    public static Optional<StorageUnavailableException> in(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StorageUnavailableException s) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
