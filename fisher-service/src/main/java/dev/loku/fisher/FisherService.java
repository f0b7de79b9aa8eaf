package dev.loku.fisher;

import dev.loku.events.ForgetSetReady;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.job.FinalFailure;
import dev.loku.runtime.job.PipelineStores;
import dev.loku.runtime.job.StageAudit;
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
 * The Fisher service: {@code loku.forget-sets} in, {@code loku.importance} out, through a
 * {@link TransactionalJobRunner} (partitions paused while the estimator runs; outputs and offset in one
 * transaction). The engine is the {@link ImportanceEstimator} given to the constructor: the real one in
 * production, a fake in tests. Healthy while its consumer polls with partitions assigned.
 */
public final class FisherService implements Service {

    private final FisherConfig config;
    private final ServiceMetrics metrics = new ServiceMetrics("fisher");
    private final TransactionalJobRunner<String, ForgetSetReady> runner;

    /**
     * Reads the catalogue (checking its files) and opens the stores: a bad catalogue or an unusable store fails
     * here, at start-up.
     */
    public FisherService(FisherConfig config, ImportanceEstimator estimator) {
        this.config = config;
        String service = "fisher-service/" + config.common().instanceId();
        Clock clock = Clock.systemUTC();
        PipelineStores stores = PipelineStores.open(config.common());
        StageAudit audit = new StageAudit(new AuditEmitter(service, clock, metrics));
        FinalFailure failure = new FinalFailure(audit, new DeadLetterPublisher(service, clock, metrics), clock);
        FisherJob job = new FisherJob(config, stores, estimator, audit, failure, metrics, clock);
        this.runner = TransactionalJobRunner.builder("fisher", Topics.FORGET_SETS,
                        RegistrySerdes.forConfig(config.common().registry()))
                .kafka(config.common().kafkaClientBase())
                .groupId(config.groupId())
                .instanceId(config.common().instanceId())
                .metrics(metrics)
                .clock(clock)
                .job(input -> job.run(input.value()))
                .onFailure((input, raw, error) -> job.onFailure(input.value(), raw, error))
                .build();
    }

    /**
     * The {@code loku serve} entry: reads the config file (with environment overrides), builds the engine boundary
     * from it, runs the service with its HTTP endpoint until SIGTERM/Ctrl-C, and returns the exit code.
     */
    public static int run(Path configFile, Map<String, String> environment,
                          java.util.function.Function<FisherConfig, ImportanceEstimator> engine) throws Exception {
        FisherConfig config = FisherConfig.load(configFile, environment);
        return ServiceRunner.run(new FisherService(config, engine.apply(config)), config.common().httpPort());
    }

    @Override
    public String name() {
        return "fisher";
    }

    @Override
    public void start() {
        if (config.common().provisionTopics()) {
            try (Admin admin = Admin.create(config.common().kafkaClientBase())) {
                TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(30));
            }
        }
        runner.start();
    }

    @Override
    public void stop() {
        runner.stop();
    }

    @Override
    public Health health() {
        return runner.health();
    }

    @Override
    public ServiceMetrics metrics() {
        return metrics;
    }
}
