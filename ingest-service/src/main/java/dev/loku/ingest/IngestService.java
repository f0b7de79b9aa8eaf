package dev.loku.ingest;

import dev.loku.runtime.artifact.ArtifactStore;
import dev.loku.runtime.artifact.DirectoryArtifactStore;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.RetryingArtifactStore;
import dev.loku.runtime.artifact.StorageUnavailableException;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.config.ConfigType;
import dev.loku.runtime.crypto.DataKeyStore;
import dev.loku.runtime.crypto.DataKeyStores;
import dev.loku.runtime.kafka.DeadLetterDeserializationHandler;
import dev.loku.runtime.kafka.TopicProvisioner;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.serde.RegistryUnavailableException;
import dev.loku.runtime.service.Health;
import dev.loku.runtime.service.Service;
import dev.loku.schemas.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest service: the {@link IngestTopology} as a Kafka Streams app with {@code exactly_once_v2}. Healthy
 * (UP) only while the stream is RUNNING. An exception the topology cannot handle (the artifact store unwritable,
 * say) shuts the app down (FAILED) rather than skip a request; the process then exits non-zero and is restarted,
 * resuming from the last committed transaction.
 */
public final class IngestService implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);

    private final IngestConfig config;
    private final RegistrySerdes serdes;
    private final ModelCatalogue catalogue;
    private final ArtifactStore artifacts;
    private final ForgetSetLedger ledger;
    private final DataKeyStore keys;
    private final ServiceMetrics metrics = new ServiceMetrics("ingest");
    private volatile KafkaStreams streams;
    private volatile AutoCloseable streamsMetrics;
    private volatile boolean stopRequested;
    /** Stream threads replaced in a row because the registry or a store failed, and when the last one was. */
    private final Object dependencyPauseLock = new Object();
    private int dependencyFailures;
    private long lastDependencyFailureNanos;

    /**
     * The first pause before a stream thread that met an unreachable registry or a failing store is replaced; doubled
     * each time.
     */
    static final Duration DEPENDENCY_FIRST_PAUSE = Duration.ofMillis(500);
    /** The longest such pause. */
    static final Duration DEPENDENCY_MAX_PAUSE = Duration.ofSeconds(30);

    /**
     * Reads the catalogue and opens the artifact and data key stores: a bad catalogue or an unusable store fails
     * here, at start-up.
     */
    public IngestService(IngestConfig config) {
        this.config = config;
        this.serdes = RegistrySerdes.forConfig(config.common().registry());
        this.catalogue = ModelCatalogue.load(config.common().modelsCatalogue());
        try {
            DirectoryArtifactStore store = new DirectoryArtifactStore(config.common().artifactsRoot());
            this.artifacts = RetryingArtifactStore.over(store, config.common().artifactRetry());
            this.ledger = ForgetSetLedger.inDirectory(store);
            this.keys = DataKeyStores.open(config.common().keyStore());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the artifact store at " + config.common().artifactsRoot(), e);
        }
    }

    @Override
    public String name() {
        return "ingest";
    }

    @Override
    public ServiceMetrics metrics() {
        return metrics;
    }

    /**
     * The Streams settings: the common client settings (bootstrap, security), exactly-once v2, dead letters for
     * undecodable verifications, config values.
     */
    public Properties streamsProperties() {
        Properties p = new Properties();
        p.putAll(config.common().kafkaClientBase());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitInterval().toMillis());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.CLIENT_ID_CONFIG, config.applicationId() + "-" + config.common().instanceId());
        p.put(DeadLetterDeserializationHandler.SERVICE_NAME_CONFIG, "ingest-service/" + config.common().instanceId());
        p.putAll(DeadLetterDeserializationHandler.streamsConfig(serdes));
        return p;
    }

    /**
     * A stream thread died. When a dependency, not the record, is at fault (the registry did not answer a schema
     * lookup: {@link RegistryUnavailableException}; the artifact store, ledger or key store could not be written or
     * read: {@link StorageUnavailableException}, e.g. a full volume), the thread is replaced after a pause that
     * doubles with each failure in a row (back to the first pause after {@link #DEPENDENCY_MAX_PAUSE} with none);
     * exactly-once has aborted the task's transaction, so the new thread processes the same records again from the
     * last commit, nothing lost or doubled. Any other failure stops the client: its health goes FAILED for an
     * operator.
     */
    private StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse onStreamFailure(Throwable e) {
        var registry = RegistryUnavailableException.in(e);
        var storage = StorageUnavailableException.in(e);
        if ((registry.isPresent() || storage.isPresent()) && !stopRequested) {
            int attempt;
            synchronized (dependencyPauseLock) {
                if (System.nanoTime() - lastDependencyFailureNanos > DEPENDENCY_MAX_PAUSE.toNanos() * 2) {
                    dependencyFailures = 0;
                }
                attempt = ++dependencyFailures;
            }
            long pauseMs = Math.min(DEPENDENCY_MAX_PAUSE.toMillis(),
                    DEPENDENCY_FIRST_PAUSE.toMillis() << Math.min(attempt - 1, 10));
            if (registry.isPresent()) {
                LOG.warn("event=registry_unavailable service=ingest attempt={} retry_in_ms={} reason=\"{}\"",
                        attempt, pauseMs, registry.get().getMessage());
            } else {
                LOG.warn("event=storage_unavailable service=ingest attempt={} retry_in_ms={} reason=\"{}: {}\"",
                        attempt, pauseMs, storage.get().getMessage(), String.valueOf(StorageUnavailableException.rootCause(storage.get())));
            }
            try {
                Thread.sleep(pauseMs); // on the dying thread: the client and its other threads carry on
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            synchronized (dependencyPauseLock) {
                lastDependencyFailureNanos = System.nanoTime();
            }
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        }
        LOG.error("event=stream_failed service=ingest error={} message=\"{}\"", e.getClass().getSimpleName(),
                e.getMessage());
        return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }

    @Override
    public synchronized void start() {
        if (streams != null) {
            throw new IllegalStateException("ingest service already started");
        }
        if (config.common().provisionTopics()) {
            try (Admin admin = Admin.create(Map.<String, Object>copyOf(config.common().kafkaClientBase()))) {
                TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(30));
            }
        }
        StreamsBuilder builder = new StreamsBuilder();
        IngestTopology.buildTopology(builder, config, serdes, catalogue, artifacts, ledger, keys, metrics);
        KafkaStreams s = new KafkaStreams(builder.build(), streamsProperties());
        s.setUncaughtExceptionHandler(this::onStreamFailure);
        s.setStateListener((now, before) -> LOG.info("event=stream_state service=ingest from={} to={}", before, now));
        metrics.consumerLag(this::requestLag);
        metrics.up(() -> health().isUp() ? 1 : 0);
        streams = s;
        streamsMetrics = metrics.kafkaStreams(s);
        s.start();
        LOG.info("event=ingest_started application_id={} catalogue_models={} batch_max_requests={} batch_max_wait={}",
                config.applicationId(), catalogue.models().size(), config.batchMaxRequests(),
                ConfigType.DURATION.format(config.batchMaxWait()));
    }

    @Override
    public void stop() {
        stopRequested = true;
        KafkaStreams s = streams;
        if (s != null) {
            s.close(Duration.ofSeconds(30));
        }
        AutoCloseable m = streamsMetrics;
        streamsMetrics = null;
        if (m != null) {
            try {
                m.close();
            } catch (Exception e) {
                LOG.warn("event=streams_metrics_close_failed service=ingest error={}", e.getClass().getSimpleName());
            }
        }
    }

    @Override
    public Health health() {
        KafkaStreams s = streams;
        if (s == null) {
            return Health.of(stopRequested ? Health.Status.STOPPED : Health.Status.STARTING, "stream not started");
        }
        KafkaStreams.State state = s.state();
        return switch (state) {
            case RUNNING -> Health.up();
            case CREATED, REBALANCING -> Health.of(Health.Status.DOWN, "stream is " + state);
            case ERROR -> Health.of(Health.Status.FAILED, "stream is ERROR");
            case PENDING_ERROR -> Health.of(Health.Status.DOWN, "stream is PENDING_ERROR");
            case PENDING_SHUTDOWN, NOT_RUNNING -> stopRequested ? Health.of(Health.Status.STOPPED, "stream is " + state)
                    : Health.of(Health.Status.FAILED, "stream is " + state);
        };
    }

    /** The running Streams app, or null before {@link #start}: for interactive queries (the benchmark). */
    KafkaStreams streams() {
        return streams;
    }

    /** Records waiting in the request topic's assigned partitions (from the Streams consumer's own metrics). */
    private double requestLag() {
        KafkaStreams s = streams;
        if (s == null) {
            return Double.NaN;
        }
        double total = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : s.metrics().entrySet()) {
            MetricName n = e.getKey();
            String topic = n.tags().get("topic");
            // Older clients tag topics with '.' replaced by '_'; accept both spellings.
            if (n.name().equals("records-lag") && topic != null
                    && (topic.equals(Topics.ERASURE_REQUESTS.name()) || topic.equals(Topics.ERASURE_REQUESTS.name().replace('.', '_')))) {
                Object v = e.getValue().metricValue();
                if (v instanceof Number num && !Double.isNaN(num.doubleValue())) {
                    total += num.doubleValue();
                }
            }
        }
        return total;
    }
}
