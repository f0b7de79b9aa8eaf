package dev.loku.runtime.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * What a service exposes on {@code /metrics}: a Micrometer registry written in the Prometheus text format, every
 * series labelled {@code service}. The pipeline's own families, whose names the alert rules use:
 * <ul>
 *   <li>{@code loku_requests_total{status}}: audit events emitted, by status (ACCEPTED, REJECTED, BATCHED...);
 *       counted by the {@link dev.loku.runtime.audit.AuditEmitter};</li>
 *   <li>{@code loku_job_seconds{outcome}}: how long jobs took (outcome: succeeded, failed, aborted);</li>
 *   <li>{@code loku_consumer_lag}: records waiting in the service's input partitions;</li>
 *   <li>{@code loku_duplicates_total}: re-delivered or re-sent inputs recognised and dropped;</li>
 *   <li>{@code loku_dead_letters_total}: records sent to {@code loku.dead-letters};</li>
 *   <li>{@code loku_up}: 1 while the service is healthy, else 0.</li>
 * </ul>
 * What the engine did, as far as a service sees it at the engine's boundary:
 * {@code loku_unlearning_epochs_total} and {@code loku_unlearning_epoch_seconds} (worker),
 * {@code loku_adapter_init_seconds{initialization}} (worker; FILA's factorisation of the importance when
 * {@code initialization="FILA"}), {@code loku_fisher_pass_seconds}, {@code loku_fisher_tokens_total} and
 * {@code loku_fisher_tokens_per_second} (fisher), and in every service {@code loku_process_resident_memory_bytes} and
 * {@code loku_native_memory_bytes} (resident memory beyond the JVM's heap and non-heap in use: libtorch's tensors,
 * as an upper-bound estimate).
 * Then the JVM's ({@code jvm_*}, {@code process_*}, {@code system_*}) and the Kafka clients' own metrics
 * ({@code kafka_*}) for every client the service registers with {@link #kafkaClient} or {@link #kafkaStreams}.
 *
 * <p>Label values are statuses, outcomes and names from code, never data from a request.
 */
public final class ServiceMetrics {

    /** The Content-Type of {@link #scrape()}: the Prometheus text format 0.0.4. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** Buckets for job durations: from a tenth of a second to four hours. */
    static final double[] JOB_SECONDS_BUCKETS = {0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400};
    /** Buckets for one epoch or one initialisation: from 10 ms to an hour. */
    static final double[] STEP_SECONDS_BUCKETS = {0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600};

    private final String service;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Timer> jobSeconds = new ConcurrentHashMap<>();
    private final Map<String, Timer> adapterInit = new ConcurrentHashMap<>();
    private final Counter duplicates;
    private final Counter deadLetters;
    private final Counter epochs;
    private final Timer epochSeconds;
    private final Timer fisherPass;
    private final Counter fisherTokens;
    private final DoubleAdder lastFisherTokensPerSecond = new DoubleAdder();
    private final AtomicReference<DoubleSupplier> consumerLag = new AtomicReference<>(() -> Double.NaN);
    private final AtomicReference<DoubleSupplier> up = new AtomicReference<>(() -> 0);

    public ServiceMetrics(String service) {
        this.service = service;
        registry.config().commonTags("service", service);
        duplicates = Counter.builder("loku.duplicates").description("Inputs recognised as repeats and dropped.")
                .register(registry);
        deadLetters = Counter.builder("loku.dead.letters").description("Records sent to the dead-letter topic.")
                .register(registry);
        Gauge.builder("loku.consumer.lag", () -> read(consumerLag))
                .description("Records not yet consumed from the service's input partitions.").register(registry);
        Gauge.builder("loku.up", () -> read(up)).description("1 while the service is healthy, else 0.")
                .register(registry);
        epochs = Counter.builder("loku.unlearning.epochs").description("Unlearning epochs finished (epoch 0, the "
                + "measurement before any update, included).").register(registry);
        epochSeconds = Timer.builder("loku.unlearning.epoch").description("Seconds of one unlearning epoch, update and "
                + "measurement together.").serviceLevelObjectives(durations(STEP_SECONDS_BUCKETS)).register(registry);
        fisherPass = Timer.builder("loku.fisher.pass").description("Seconds of one Fisher importance pass (forget set "
                + "and retain sample).").serviceLevelObjectives(durations(JOB_SECONDS_BUCKETS)).register(registry);
        fisherTokens = Counter.builder("loku.fisher.tokens").description("Label tokens the Fisher passes scored.")
                .register(registry);
        Gauge.builder("loku.fisher.tokens.per.second", lastFisherTokensPerSecond, DoubleAdder::sum)
                .description("Label tokens per second of the last Fisher pass.").register(registry);
        Gauge.builder("loku.process.resident.memory", ProcessMemory::residentBytes).baseUnit("bytes")
                .description("Resident set size of the process (Linux /proc; NaN elsewhere).").register(registry);
        Gauge.builder("loku.native.memory", ProcessMemory::nativeBytes).baseUnit("bytes")
                .description("Resident memory beyond the JVM's heap and non-heap in use: libtorch's tensors and other "
                        + "native allocations (an upper-bound estimate; NaN where /proc is missing).").register(registry);
        for (MeterBinder jvm : new MeterBinder[] {new JvmMemoryMetrics(), new JvmGcMetrics(), new JvmThreadMetrics(),
                new ClassLoaderMetrics(), new ProcessorMetrics(), new UptimeMetrics()}) {
            jvm.bindTo(registry);
        }
    }

    private static double read(AtomicReference<DoubleSupplier> supplier) {
        try {
            return supplier.get().getAsDouble();
        } catch (RuntimeException e) {
            return Double.NaN; // a failing supplier must not break the whole scrape
        }
    }

    private static Duration[] durations(double[] seconds) {
        return Arrays.stream(seconds).mapToObj(s -> Duration.ofNanos((long) (s * 1e9))).toArray(Duration[]::new);
    }

    public String service() {
        return service;
    }

    /** The registry, for a service's own meters. */
    public MeterRegistry registry() {
        return registry;
    }

    /** Counts one audit event with {@code status}. */
    public void request(String status) {
        requests.computeIfAbsent(status, s -> Counter.builder("loku.requests").description("Audit events emitted, by status.")
                .tag("status", s).register(registry)).increment();
    }

    public double requests(String status) {
        Counter c = requests.get(status);
        return c == null ? 0 : c.count();
    }

    public void jobSeconds(String outcome, double seconds) {
        jobSeconds.computeIfAbsent(outcome, o -> Timer.builder("loku.job").description("Duration of jobs in seconds, "
                + "by outcome.").tag("outcome", o).serviceLevelObjectives(durations(JOB_SECONDS_BUCKETS))
                .register(registry)).record(Duration.ofNanos((long) (seconds * 1e9)));
    }

    public void duplicate() {
        duplicates.increment();
    }

    public double duplicates() {
        return duplicates.count();
    }

    public void deadLetter() {
        deadLetters.increment();
    }

    public double deadLetters() {
        return deadLetters.count();
    }

    /** Reads the consumer lag from {@code lag} at every scrape (the last supplier given wins). */
    public void consumerLag(DoubleSupplier lag) {
        consumerLag.set(lag);
    }

    /** Reads health (1 up, 0 not) from {@code healthy} at every scrape (the last supplier given wins). */
    public void up(DoubleSupplier healthy) {
        up.set(healthy);
    }

    /** One unlearning epoch finished after {@code seconds}. */
    public void unlearningEpoch(double seconds) {
        epochs.increment();
        epochSeconds.record(Duration.ofNanos((long) (seconds * 1e9)));
    }

    /** An adapter was initialised ({@code FILA}, {@code RANDOM}...) in {@code seconds}. */
    public void adapterInitialized(String initialization, double seconds) {
        adapterInit.computeIfAbsent(initialization, i -> Timer.builder("loku.adapter.init")
                .description("Seconds to initialise a job's adapter, by initialisation (FILA: loading the importance "
                        + "and its row-weighted rank-r factorisation).").tag("initialization", i)
                .serviceLevelObjectives(durations(STEP_SECONDS_BUCKETS)).register(registry))
                .record(Duration.ofNanos((long) (seconds * 1e9)));
    }

    /** A Fisher pass over {@code tokens} label tokens took {@code seconds}. */
    public void fisherPass(double seconds, long tokens) {
        fisherPass.record(Duration.ofNanos((long) (seconds * 1e9)));
        fisherTokens.increment(tokens);
        if (seconds > 0) {
            lastFisherTokensPerSecond.reset();
            lastFisherTokensPerSecond.add(tokens / seconds);
        }
    }

    /**
     * Publishes a Kafka client's own metrics ({@code kafka_producer_*}, {@code kafka_consumer_*},
     * {@code kafka_admin_client_*}) until the returned handle is closed, which the owner does before closing the
     * client.
     */
    public AutoCloseable kafkaClient(Object client) {
        KafkaClientMetrics binder;
        if (client instanceof Producer<?, ?> p) {
            binder = new KafkaClientMetrics(p);
        } else if (client instanceof Consumer<?, ?> c) {
            binder = new KafkaClientMetrics(c);
        } else if (client instanceof AdminClient a) {
            binder = new KafkaClientMetrics(a);
        } else if (client instanceof Admin) {
            throw new IllegalArgumentException("an Admin that is not an AdminClient has no metrics to publish");
        } else {
            throw new IllegalArgumentException("not a Kafka client: " + client.getClass().getName());
        }
        binder.bindTo(registry);
        return binder::close;
    }

    /** Publishes a Kafka Streams app's metrics ({@code kafka_stream_*}) until the returned handle is closed. */
    public AutoCloseable kafkaStreams(KafkaStreams streams) {
        KafkaStreamsMetrics binder = new KafkaStreamsMetrics(streams);
        binder.bindTo(registry);
        return binder::close;
    }

    /** Every meter in the Prometheus text format ({@link #CONTENT_TYPE}). */
    public String scrape() {
        return registry.scrape();
    }
}
