package dev.loku.worker;

import dev.loku.events.ImportanceReady;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.job.FinalFailure;
import dev.loku.runtime.job.PipelineStores;
import dev.loku.runtime.job.StageAudit;
import dev.loku.runtime.kafka.PlainPublisher;
import dev.loku.runtime.kafka.TopicProvisioner;
import dev.loku.runtime.kafka.TransactionalJobRunner;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.service.Health;
import dev.loku.runtime.service.Service;
import dev.loku.runtime.service.ServiceRunner;
import dev.loku.schemas.Topics;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/**
 * The unlearning worker: {@code loku.importance} in, {@code loku.candidates} out, through a
 * {@link TransactionalJobRunner} (partitions paused for the hours a job may take, so the group does not rebalance
 * it away; outputs and offset in one transaction; a stopped or revoked job commits nothing and its next owner runs
 * it again with the same ids). JobProgress and UNLEARNING go through a {@link PlainPublisher}, at once. The engine
 * is the {@link UnlearningRunner} given to the constructor: the real one in production, a fake in tests. Scale by
 * adding instances with the same {@code worker.group.id}, up to the topic's partition count.
 */
public final class WorkerService implements Service {

    private final WorkerConfig config;
    private final ServiceMetrics metrics = new ServiceMetrics("worker");
    private final RegistrySerdes serdes;
    private final WorkerJob job;
    private final TransactionalJobRunner.Builder<String, ImportanceReady> builder;
    private volatile TransactionalJobRunner<String, ImportanceReady> runner;
    private volatile PlainPublisher heartbeats;

    /**
     * Reads the catalogue (checking its files) and opens the stores: a bad catalogue or an unusable store fails
     * here, at start-up.
     */
    public WorkerService(WorkerConfig config, UnlearningRunner engine) {
        this.config = config;
        String service = "unlearn-worker/" + config.common().instanceId();
        Clock clock = Clock.systemUTC();
        this.serdes = RegistrySerdes.forConfig(config.common().registry());
        PipelineStores stores = PipelineStores.open(config.common());
        StageAudit audit = new StageAudit(new AuditEmitter(service, clock, metrics));
        FinalFailure failure = new FinalFailure(audit, new DeadLetterPublisher(service, clock, metrics), clock);
        this.job = new WorkerJob(config, stores, engine, audit, failure, r -> {
            PlainPublisher p = heartbeats;
            if (p != null) {
                p.accept(r);
            }
        }, metrics, clock);
        this.builder = TransactionalJobRunner.builder("worker", Topics.IMPORTANCE, serdes)
                .kafka(config.common().kafkaClientBase())
                .groupId(config.groupId())
                .instanceId(config.common().instanceId())
                .metrics(metrics)
                .clock(clock)
                .job(input -> job.run(input.value()))
                .onFailure((input, raw, error) -> job.onFailure(input.value(), raw, error));
    }

    /**
     * The {@code loku serve} entry: reads the config file (with environment overrides), builds the engine boundary
     * from it, runs the service with its HTTP endpoint until SIGTERM/Ctrl-C, and returns the exit code.
     */
    public static int run(Path configFile, Map<String, String> environment,
                          java.util.function.Function<WorkerConfig, UnlearningRunner> engine) throws Exception {
        WorkerConfig config = WorkerConfig.load(configFile, environment);
        return ServiceRunner.run(new WorkerService(config, engine.apply(config)), config.common().httpPort());
    }

    @Override
    public String name() {
        return "worker";
    }

    @Override
    public synchronized void start() {
        if (runner != null) {
            throw new IllegalStateException("worker already started");
        }
        if (config.common().provisionTopics()) {
            try (Admin admin = Admin.create(config.common().kafkaClientBase())) {
                TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(30));
            }
        }
        heartbeats = new PlainPublisher(config.common().kafkaClientBase(),
                config.groupId() + "-" + config.common().instanceId() + "-heartbeats", serdes);
        runner = builder.build();
        runner.start();
    }

    @Override
    public synchronized void stop() {
        if (runner != null) {
            runner.stop();
        }
        PlainPublisher p = heartbeats;
        heartbeats = null;
        if (p != null) {
            p.close();
        }
    }

    @Override
    public Health health() {
        TransactionalJobRunner<String, ImportanceReady> r = runner;
        return r == null ? Health.of(Health.Status.STARTING, "not started") : r.health();
    }

    @Override
    public ServiceMetrics metrics() {
        return metrics;
    }
}
