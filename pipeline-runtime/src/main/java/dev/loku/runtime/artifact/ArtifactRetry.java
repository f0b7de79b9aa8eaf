package dev.loku.runtime.artifact;

import java.time.Duration;
import java.util.Objects;

/**
 * How often an artifact-store operation that failed with an I/O error is tried in all, and the wait before the first
 * retry (doubled before each further one). A shared volume that hiccups, an NFS server that fails over or a disk
 * that briefly fills should delay a job, not fail it for good.
 *
 * @param attempts tries in all, at least 1 (1: no retry)
 * @param backoff  wait before the second try; the n-th retry waits {@code backoff * 2^(n-1)}
 */
public record ArtifactRetry(int attempts, Duration backoff) {

    /** One try, no wait: what a store without retries does. */
    public static final ArtifactRetry NONE = new ArtifactRetry(1, Duration.ZERO);

    public ArtifactRetry {
        Objects.requireNonNull(backoff, "backoff");
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be at least 1, not " + attempts);
        }
        if (backoff.isNegative()) {
            throw new IllegalArgumentException("backoff must not be negative");
        }
    }

    /** The wait after failed try {@code n} (1-based) before try {@code n + 1}. */
    public Duration waitAfter(int n) {
        return backoff.multipliedBy(1L << Math.min(n - 1, 20));
    }
}
