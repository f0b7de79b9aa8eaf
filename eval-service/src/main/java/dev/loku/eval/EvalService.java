package dev.loku.eval;

import dev.loku.runtime.job.JobStage;
import dev.loku.runtime.kafka.TopicCatchUp;
import dev.loku.schemas.Topics;
import java.time.Duration;

/**
 * The eval service: a {@link JobStage} with two inputs in one process.
 * <ul>
 *   <li><b>verify</b> ({@code eval.group.id}): {@code loku.candidates} in; verdicts, promotions, retries and audit
 *       out ({@link VerificationJob});</li>
 *   <li><b>purge</b> ({@code eval.purge.group.id}): {@code loku.verifications} in; after each final verdict the
 *       set's data deleted and PURGED audited ({@link PurgeJob}).</li>
 * </ul>
 * Healthy while both consumers poll with partitions assigned; the metrics are shared (job seconds of both runners).
 * The engine is the {@link CandidateEvaluator} given to {@link #create}: the real one in production, a fake in
 * tests.
 */
public final class EvalService {

    private EvalService() {
    }

    /**
     * Reads the catalogue (checking its files) and opens the stores: a bad catalogue or an unusable store fails
     * here, at start-up.
     */
    public static JobStage create(EvalConfig config, CandidateEvaluator evaluator) {
        JobStage.Builder stage = JobStage.builder("eval", "eval-service", config.common());
        VerifiedJobs verified = VerifiedJobs.fromTopic(new TopicCatchUp<>(config.common().kafkaClientBase(),
                Topics.VERIFICATIONS, stage.serdes()), Duration.ofSeconds(60));
        VerificationJob verify = new VerificationJob(config, stage.stores(), evaluator, verified, stage.audit(),
                stage.finalFailure(), stage.metrics(), stage.clock());
        PurgeJob purge = new PurgeJob(stage.stores(), stage.audit(), stage.deadLetters(), stage.clock());
        return stage.input("eval", Topics.CANDIDATES, config.groupId(), verify::run, verify::onFailure)
                .input("eval-purge", Topics.VERIFICATIONS, config.purgeGroupId(), input -> purge.run(input.value()),
                        purge::onFailure)
                .closeOnStop(verified)
                .build();
    }
}
