package dev.loku.runtime.artifact;

import dev.loku.events.ArtifactRef;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link ArtifactStore} that tries each operation again when it fails with an I/O error that may pass (a store
 * that is unwritable, full or unreachable for a moment), waiting as {@link ArtifactRetry} says. When the last try
 * fails too, the job gets an {@link ArtifactStoreUnavailableException} (the last error as its cause), on which the
 * job runner waits and runs the job again later rather than failing it. Answers that retrying cannot change are passed
 * on at once: a missing blob ({@link ArtifactNotFoundException}, {@link NoSuchFileException}), bytes that do not
 * match their ref ({@link CorruptArtifactException}), a target folder that is not empty. Every operation of the
 * store is idempotent (content addressing, atomic moves, a materialised folder removed on failure), so a retry after
 * a partial failure is safe.
 *
 * <p>Each retry is logged with the operation, the try and the exception's class, never its message or a ref's
 * content. Cancellation (a thread interrupt) ends the wait and the operation at once.
 */
public final class RetryingArtifactStore implements ArtifactStore {

    private static final Logger LOG = LoggerFactory.getLogger(RetryingArtifactStore.class);

    private final ArtifactStore delegate;
    private final ArtifactRetry retry;
    private final Sleeper sleeper;

    /** Waits between tries; a test passes one that records instead of sleeping. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    @FunctionalInterface
    private interface Operation<T> {
        T run() throws IOException;
    }

    RetryingArtifactStore(ArtifactStore delegate, ArtifactRetry retry, Sleeper sleeper) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.retry = Objects.requireNonNull(retry, "retry");
        this.sleeper = sleeper;
    }

    /**
     * {@code delegate} with {@code retry}. {@link ArtifactRetry#NONE} tries once, and still reports a failed try as
     * {@link ArtifactStoreUnavailableException}, so the job waits for the store either way.
     */
    public static ArtifactStore over(ArtifactStore delegate, ArtifactRetry retry) {
        return new RetryingArtifactStore(delegate, retry, Thread::sleep);
    }

    /** The store it retries. */
    public ArtifactStore delegate() {
        return delegate;
    }

    @Override
    public ArtifactRef put(byte[] bytes) throws IOException {
        return retried("put", () -> delegate.put(bytes));
    }

    @Override
    public ArtifactRef putFile(Path file) throws IOException {
        return retried("put_file", () -> delegate.putFile(file));
    }

    @Override
    public byte[] read(ArtifactRef ref) throws IOException {
        return retried("read", () -> delegate.read(ref));
    }

    @Override
    public void copyTo(ArtifactRef ref, Path target) throws IOException {
        retried("copy", () -> {
            delegate.copyTo(ref, target);
            return null;
        });
    }

    @Override
    public boolean exists(ArtifactRef ref) {
        return delegate.exists(ref);
    }

    @Override
    public boolean delete(ArtifactRef ref) throws IOException {
        return retried("delete", () -> delegate.delete(ref));
    }

    @Override
    public ArtifactRef putTree(Path folder) throws IOException {
        return retried("put_tree", () -> delegate.putTree(folder));
    }

    @Override
    public TreeManifest manifest(ArtifactRef treeRef) throws IOException {
        return retried("manifest", () -> delegate.manifest(treeRef));
    }

    @Override
    public Path materialiseTree(ArtifactRef treeRef, Path target) throws IOException {
        return retried("materialise_tree", () -> delegate.materialiseTree(treeRef, target));
    }

    @Override
    public boolean deleteTree(ArtifactRef treeRef) throws IOException {
        return retried("delete_tree", () -> delegate.deleteTree(treeRef));
    }

    /** Whether trying again cannot change the answer. */
    static boolean permanent(IOException e) {
        return e instanceof ArtifactNotFoundException || e instanceof CorruptArtifactException
                || e instanceof NoSuchFileException || e instanceof FileAlreadyExistsException
                || e instanceof InterruptedIOException;
    }

    private <T> T retried(String operation, Operation<T> op) throws IOException {
        for (int n = 1; ; n++) {
            try {
                T result = op.run();
                if (n > 1) {
                    LOG.info("event=artifact_retry_succeeded op={} attempt={} of={}", operation, n,
                            retry.attempts());
                }
                return result;
            } catch (IOException e) {
                if (permanent(e)) {
                    throw e;
                }
                if (n >= retry.attempts()) {
                    LOG.warn("event=artifact_retry_exhausted op={} attempts={} error={}", operation, n,
                            e.getClass().getSimpleName());
                    throw new ArtifactStoreUnavailableException(operation, n, e);
                }
                long wait = retry.waitAfter(n).toMillis();
                LOG.warn("event=artifact_retry op={} attempt={} of={} wait_ms={} error={}", operation, n,
                        retry.attempts(), wait, e.getClass().getSimpleName());
                try {
                    sleeper.sleep(wait);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    InterruptedIOException stop = new InterruptedIOException("interrupted while waiting to retry "
                            + operation + " on the artifact store");
                    stop.addSuppressed(e);
                    throw stop;
                }
            }
        }
    }
}
