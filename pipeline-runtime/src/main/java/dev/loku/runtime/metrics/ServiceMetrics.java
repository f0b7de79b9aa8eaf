package dev.loku.runtime.metrics;

import java.util.function.DoubleSupplier;

/**
 * The metrics every service exposes on {@code /metrics}, each labelled with the service's name:
 * <ul>
 *   <li>{@code loku_requests_total{service,status}}: audit events emitted, by status (ACCEPTED, REJECTED,
 *       BATCHED...); counted by the {@link dev.loku.runtime.audit.AuditEmitter};</li>
 *   <li>{@code loku_job_seconds{service,outcome}}: how long jobs took (outcome: succeeded, failed, aborted);</li>
 *   <li>{@code loku_consumer_lag{service}}: records waiting in the service's input partitions;</li>
 *   <li>{@code loku_duplicates_total{service}}: re-delivered or re-sent inputs recognised and dropped;</li>
 *   <li>{@code loku_dead_letters_total{service}}: records sent to {@code loku.dead-letters};</li>
 *   <li>{@code loku_up{service}}: 1 while the service is healthy, else 0.</li>
 * </ul>
 * A service may add its own families to {@link #registry()}.
 */
public final class ServiceMetrics {

    /** Buckets for job durations: from a second to a few hours. */
    static final double[] JOB_SECONDS_BUCKETS = {0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400};

    private final String service;
    private final MetricsRegistry registry = new MetricsRegistry();
    private final MetricsRegistry.Counter requests;
    private final MetricsRegistry.Histogram jobSeconds;
    private final MetricsRegistry.Gauge consumerLag;
    private final MetricsRegistry.Counter duplicates;
    private final MetricsRegistry.Counter deadLetters;
    private final MetricsRegistry.Gauge up;

    public ServiceMetrics(String service) {
        this.service = service;
        requests = registry.counter("loku_requests_total", "Audit events emitted, by status.", "service", "status");
        jobSeconds = registry.histogram("loku_job_seconds", "Duration of jobs in seconds, by outcome.",
                JOB_SECONDS_BUCKETS, "service", "outcome");
        consumerLag = registry.gauge("loku_consumer_lag", "Records not yet consumed from the service's input partitions.",
                "service");
        duplicates = registry.counter("loku_duplicates_total", "Inputs recognised as repeats and dropped.", "service");
        deadLetters = registry.counter("loku_dead_letters_total", "Records sent to the dead-letter topic.", "service");
        up = registry.gauge("loku_up", "1 while the service is healthy, else 0.", "service");
        duplicates.labels(service);
        deadLetters.labels(service);
    }

    public String service() {
        return service;
    }

    public MetricsRegistry registry() {
        return registry;
    }

    /** Counts one audit event with {@code status}. */
    public void request(String status) {
        requests.labels(service, status).inc();
    }

    public double requests(String status) {
        return requests.labels(service, status).get();
    }

    public void jobSeconds(String outcome, double seconds) {
        jobSeconds.labels(service, outcome).observe(seconds);
    }

    public void duplicate() {
        duplicates.labels(service).inc();
    }

    public double duplicates() {
        return duplicates.labels(service).get();
    }

    public void deadLetter() {
        deadLetters.labels(service).inc();
    }

    public double deadLetters() {
        return deadLetters.labels(service).get();
    }

    /** Reads the consumer lag from {@code lag} at every scrape. */
    public void consumerLag(DoubleSupplier lag) {
        consumerLag.supply(lag, service);
    }

    /** Reads health (1 up, 0 not) from {@code healthy} at every scrape. */
    public void up(DoubleSupplier healthy) {
        up.supply(healthy, service);
    }

    public String scrape() {
        return registry.scrape();
    }
}
