package dev.loku.runtime.service;

import dev.loku.runtime.metrics.ServiceMetrics;

/**
 * What every LoKU service is to its main and to ops (STYLE.md: a small contract, one main per service that only
 * reads config, starts and waits). {@link ServiceRunner} runs any implementation with its HTTP endpoint until the
 * process is told to stop.
 */
public interface Service extends AutoCloseable {

    /** Short name, e.g. {@code ingest}; used in logs, metrics and the audit {@code service} field. */
    String name();

    /** Starts processing in background threads and returns; throws when it cannot start (bad config, no broker). */
    void start() throws Exception;

    /** Stops promptly, committing nothing half-done; idempotent. */
    void stop();

    /** Current health; cheap, called on every {@code /health} request. */
    Health health();

    /** The service's metrics, served on {@code /metrics}. */
    ServiceMetrics metrics();

    @Override
    default void close() {
        stop();
    }
}
