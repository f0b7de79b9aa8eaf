package dev.loku.eval;

import dev.loku.events.UnlearnCompleted;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.job.FinalFailure;
import dev.loku.runtime.job.PipelineStores;
import dev.loku.runtime.job.StageAudit;
import dev.loku.runtime.kafka.TopicCatchUp;
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
 * The eval service: two {@link TransactionalJobRunner}s in one process.
 * <ul>
 *   <li><b>verify</b> ({@code eval.group.id}): {@code loku.candidates} in; verdicts, promotions, retries and audit
 *       out ({@link VerificationJob});</li>
 *   <li><b>purge</b> ({@code eval.purge.group.id}): {@code loku.verifications} in; after each final verdict the
 *       set's data deleted and PURGED audited ({@link PurgeJob}).</li>
 * </ul>
 * Healthy while both consumers poll with partitions assigned; the metrics are shared (job seconds of both runners).
 * The engine is the {@link CandidateEvaluator} given to the constructor: the real one in production, a fake in
 * tests.
 */
public final class EvalService implements Service {

    private final EvalConfig config;
    private final ServiceMetrics metrics = new ServiceMetrics("eval");
    private final VerifiedJobs verified;
    private final TransactionalJobRunner<String, UnlearnCompleted> verifier;
    private final TransactionalJobRunner<String, VerificationResult> purger;

    /**
     * Reads the catalogue (checking its files) and opens the stores: a bad catalogue or an unusable store fails
     * here, at start-up.
     */
    public EvalService(EvalConfig config, CandidateEvaluator evaluator) {
        this.config = config;
        String service = "eval-service/" + config.common().instanceId();
        Clock clock = Clock.systemUTC();
        RegistrySerdes serdes = RegistrySerdes.forConfig(config.common().registry());
        PipelineStores stores = PipelineStores.open(config.common());
        StageAudit audit = new StageAudit(new AuditEmitter(service, clock, metrics));
        DeadLetterPublisher deadLetters = new DeadLetterPublisher(service, clock, metrics);
        this.verified = VerifiedJobs.fromTopic(new TopicCatchUp<>(config.common().kafkaClientBase(),
                Topics.VERIFICATIONS, serdes), Duration.ofSeconds(60));
        VerificationJob verify = new VerificationJob(config, stores, evaluator, verified, audit,
                new FinalFailure(audit, deadLetters, clock), metrics, clock);
        PurgeJob purge = new PurgeJob(stores, audit, deadLetters, clock);
        this.verifier = TransactionalJobRunner.builder("eval", Topics.CANDIDATES, serdes)
                .kafka(config.common().kafkaClientBase())
                .groupId(config.groupId())
                .instanceId(config.common().instanceId())
                .metrics(metrics)
                .clock(clock)
                .job(verify::run)
                .onFailure((input, raw, error) -> verify.onFailure(input, raw, error))
                .build();
        this.purger = TransactionalJobRunner.builder("eval-purge", Topics.VERIFICATIONS, serdes)
                .kafka(config.common().kafkaClientBase())
                .groupId(config.purgeGroupId())
                .instanceId(config.common().instanceId())
                .metrics(metrics)
                .clock(clock)
                .job(input -> purge.run(input.value()))
                .onFailure(purge::onFailure)
                .build();
    }

    /**
     * The {@code loku serve} entry: reads the config file (with environment overrides), builds the engine boundary
     * from it, runs the service with its HTTP endpoint until SIGTERM/Ctrl-C, and returns the exit code.
     */
    public static int run(Path configFile, Map<String, String> environment,
                          java.util.function.Function<EvalConfig, CandidateEvaluator> engine) throws Exception {
        EvalConfig config = EvalConfig.load(configFile, environment);
        return ServiceRunner.run(new EvalService(config, engine.apply(config)), config.common().httpPort());
    }

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public void start() {
        if (config.common().provisionTopics()) {
            try (Admin admin = Admin.create(config.common().kafkaClientBase())) {
                TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(30));
            }
        }
        verifier.start();
        purger.start();
        // Each runner registered its own health and lag; the service reports both.
        metrics.up(() -> health().isUp() ? 1 : 0);
        metrics.consumerLag(() -> verifier.lag() + purger.lag());
    }

    @Override
    public void stop() {
        verifier.stop();
        purger.stop();
        verified.close();
    }

    /** UP when both runners are; otherwise the worse of the two, with its reason. */
    @Override
    public Health health() {
        Health v = verifier.health();
        Health p = purger.health();
        if (!v.isUp()) {
            return v;
        }
        return p.isUp() ? v : Health.of(p.status(), "purge: " + p.reason());
    }

    @Override
    public ServiceMetrics metrics() {
        return metrics;
    }
}
