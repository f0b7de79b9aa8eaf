package dev.loku.fisher;

import dev.loku.runtime.job.JobStage;
import dev.loku.schemas.Topics;

/**
 * The Fisher service: {@code loku.forget-sets} in, {@code loku.importance} out, as a {@link JobStage} (partitions
 * paused while the estimator runs; outputs and offset in one transaction) around the {@link FisherJob}. The engine
 * is the {@link ImportanceEstimator} given to {@link #create}: the real one in production, a fake in tests.
 * Healthy while its consumer polls with partitions assigned.
 */
public final class FisherService {

    private FisherService() {
    }

    /**
     * Reads the catalogue (checking its files) and opens the stores: a bad catalogue or an unusable store fails
     * here, at start-up.
     */
    public static JobStage create(FisherConfig config, ImportanceEstimator estimator) {
        JobStage.Builder stage = JobStage.builder("fisher", "fisher-service", config.common());
        FisherJob job = new FisherJob(config, stage.stores(), estimator, stage.audit(), stage.finalFailure(),
                stage.metrics(), stage.clock());
        return stage.input("fisher", Topics.FORGET_SETS, config.groupId(), input -> job.run(input.value()),
                (input, raw, error) -> job.onFailure(input.value(), raw, error)).build();
    }
}
