package dev.loku.runtime.job;

import dev.loku.runtime.audit.AuditChain;
import dev.loku.runtime.audit.AuditChainStamp;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.kafka.PlainPublisher;
import dev.loku.runtime.kafka.TopicProvisioner;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.runtime.kafka.TransactionalJobRunner;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.service.Health;
import dev.loku.runtime.service.Service;
import dev.loku.schemas.Topic;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job service of the pipeline (Fisher, worker, eval), built the same way for each: from the common configuration
 * the stage opens the {@link PipelineStores}, the audit emitter and dead-letter publisher that name the service,
 * the {@link FinalFailure} that closes a set it cannot finish, one clock and one set of metrics; each input is a
 * {@link TransactionalJobRunner} (group id, topic, job, failure handler). The service modules keep only their job
 * logic:
 *
 * <pre>{@code
 * JobStage.Builder stage = JobStage.builder("fisher", "fisher-service", config.common());
 * FisherJob job = new FisherJob(config, stage.stores(), estimator, stage.audit(), stage.finalFailure(),
 *         stage.metrics(), stage.clock());
 * return stage.input("fisher", Topics.FORGET_SETS, config.groupId(),
 *         in -> job.run(in.value()), (in, raw, error) -> job.onFailure(in.value(), raw, error)).build();
 * }</pre>
 *
 * <p>{@link #start} provisions the topic catalogue when {@code provision.topics} is set, opens the
 * {@link Builder#heartbeats() heartbeat} producer, then starts every runner. The stage is UP when every runner
 * is; otherwise its health is the first runner's that is not, named after that runner when it is not the first.
 * Its lag is the sum of the runners'. {@link #stop} stops the runners, then closes the heartbeat producer and what
 * was handed to {@link Builder#closeOnStop}.
 */
public final class JobStage implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(JobStage.class);

    private final String name;
    private final CommonConfig common;
    private final ServiceMetrics metrics;
    private final List<TransactionalJobRunner<String, ?>> runners;
    private final Heartbeats heartbeats;
    private final List<AutoCloseable> resources;
    private boolean started;

    private JobStage(Builder b) {
        this.name = b.name;
        this.common = b.common;
        this.metrics = b.metrics;
        this.runners = List.copyOf(b.runners);
        this.heartbeats = b.heartbeats;
        this.resources = List.copyOf(b.resources);
    }

    /**
     * Opens the parts every job of the stage shares; a bad catalogue or an unusable store fails here, at start-up.
     *
     * @param name      the service's short name (fisher, worker, eval): metrics, logs, {@code /health}
     * @param component what the audit trail and dead letters name as their producer, before
     *                  {@code /<instance id>} (fisher-service, unlearn-worker, eval-service)
     */
    public static Builder builder(String name, String component, CommonConfig common) {
        return new Builder(name, component, common);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException(name + " already started");
        }
        started = true;
        if (common.provisionTopics()) {
            try (Admin admin = Admin.create(common.kafkaClientBase())) {
                TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(30));
            }
        }
        heartbeats.open();
        runners.forEach(TransactionalJobRunner::start);
        // Each runner registered its own health and lag; the stage reports all of them.
        metrics.up(() -> health().isUp() ? 1 : 0);
        metrics.consumerLag(() -> runners.stream().mapToDouble(TransactionalJobRunner::lag).sum());
    }

    @Override
    public synchronized void stop() {
        runners.forEach(TransactionalJobRunner::stop);
        heartbeats.close();
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.warn("event=close_failed service={} error={}", name, e.getClass().getSimpleName());
            }
        }
    }

    @Override
    public Health health() {
        for (int i = 0; i < runners.size(); i++) {
            Health h = runners.get(i).health();
            if (!h.isUp()) {
                return i == 0 ? h : Health.of(h.status(), runners.get(i).name() + ": " + h.reason());
            }
        }
        return runners.get(0).health();
    }

    @Override
    public ServiceMetrics metrics() {
        return metrics;
    }

    /** Declares a stage: its shared parts are open as soon as the builder exists, for the jobs to be built from. */
    public static final class Builder {
        private final String name;
        private final CommonConfig common;
        private final Clock clock = Clock.systemUTC();
        private final ServiceMetrics metrics;
        private final RegistrySerdes serdes;
        private final PipelineStores stores;
        private final StageAudit audit;
        private final DeadLetterPublisher deadLetters;
        private final FinalFailure finalFailure;
        private final Heartbeats heartbeats;
        private final String producer;
        private final List<TransactionalJobRunner<String, ?>> runners = new ArrayList<>();
        private final List<AutoCloseable> resources = new ArrayList<>();

        private Builder(String name, String component, CommonConfig common) {
            this.name = Objects.requireNonNull(name, "name");
            this.common = Objects.requireNonNull(common, "common");
            String producer = Objects.requireNonNull(component, "component") + "/" + common.instanceId();
            this.metrics = new ServiceMetrics(name);
            this.serdes = RegistrySerdes.forConfig(common.registry());
            this.stores = PipelineStores.open(common);
            this.audit = new StageAudit(new AuditEmitter(producer, clock, metrics));
            this.deadLetters = new DeadLetterPublisher(producer, clock, metrics);
            this.finalFailure = new FinalFailure(audit, deadLetters, clock);
            this.producer = producer;
            this.heartbeats = new Heartbeats(common, serdes, new AuditChain(chainId("heartbeats")));
        }

        /** An audit chain id of this stage instance: unique to this start, so a restart begins a new chain. */
        private String chainId(String writer) {
            return producer + "/" + writer + "/" + UUID.randomUUID();
        }

        public Clock clock() {
            return clock;
        }

        public ServiceMetrics metrics() {
            return metrics;
        }

        public RegistrySerdes serdes() {
            return serdes;
        }

        public PipelineStores stores() {
            return stores;
        }

        public StageAudit audit() {
            return audit;
        }

        public DeadLetterPublisher deadLetters() {
            return deadLetters;
        }

        public FinalFailure finalFailure() {
            return finalFailure;
        }

        /**
         * Sends records at once, outside any job's transaction (JobProgress, a stage's "started" audit events): a
         * transaction would hide them until the job ends. Records sent while the stage is not running are dropped,
         * as a lost heartbeat is harmless.
         */
        public Consumer<TopicRecord<?, ?>> heartbeats() {
            heartbeats.wanted = true;
            return heartbeats;
        }

        /**
         * Adds an input: a {@link TransactionalJobRunner} named {@code runner} in consumer group {@code groupId}
         * over {@code topic}, running {@code job} per record and publishing what {@code onFailure} returns when it
         * throws.
         */
        public <V extends SpecificRecord> Builder input(String runner, Topic<String, V> topic, String groupId,
                                                        TransactionalJobRunner.Job<String, V> job,
                                                        TransactionalJobRunner.FailureHandler<String, V> onFailure) {
            if (runners.isEmpty()) {
                heartbeats.clientId = groupId + "-" + common.instanceId() + "-heartbeats";
            }
            runners.add(TransactionalJobRunner.builder(runner, topic, serdes)
                    .kafka(common.kafkaClientBase())
                    .groupId(groupId)
                    .instanceId(common.instanceId())
                    .metrics(metrics)
                    .job(job)
                    .onFailure(onFailure)
                    // Each runner writes its own audit chain; a new one each time the process starts.
                    .stamp(new AuditChainStamp(new AuditChain(chainId(runner))))
                    // The runner's own letters (undecodable input, a failure handler that threw) name the runner, so eval's two
                    // inputs can be told apart.
                    .deadLetters(new DeadLetterPublisher(runner + "/" + common.instanceId(), clock, metrics))
                    .build());
            return this;
        }

        /** Something a job reads that the stage closes when it stops (after its runners). */
        public Builder closeOnStop(AutoCloseable resource) {
            resources.add(Objects.requireNonNull(resource, "resource"));
            return this;
        }

        public JobStage build() {
            if (runners.isEmpty()) {
                throw new IllegalStateException("a job stage needs at least one input");
            }
            return new JobStage(this);
        }
    }

    /**
     * The heartbeat producer: opened with the stage when a job asked for it, closed with it, and silent while
     * closed. Its client id follows the stage's first consumer group.
     */
    private static final class Heartbeats implements Consumer<TopicRecord<?, ?>> {
        private final CommonConfig common;
        private final RegistrySerdes serdes;
        private boolean wanted;
        private String clientId;
        private final AuditChain chain;
        private volatile PlainPublisher publisher;

        Heartbeats(CommonConfig common, RegistrySerdes serdes, AuditChain chain) {
            this.common = common;
            this.serdes = serdes;
            this.chain = chain;
        }

        void open() {
            if (wanted) {
                publisher = new PlainPublisher(common.kafkaClientBase(), clientId, serdes);
            }
        }

        @Override
        public synchronized void accept(TopicRecord<?, ?> record) {
            PlainPublisher p = publisher;
            if (p != null) {
                p.accept(chain.link(record)); // linked only when sent, so a dropped heartbeat leaves no hole
            }
        }

        void close() {
            PlainPublisher p = publisher;
            publisher = null;
            if (p != null) {
                p.close();
            }
        }
    }
}
