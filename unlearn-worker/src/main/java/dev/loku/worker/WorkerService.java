package dev.loku.worker;

import dev.loku.runtime.job.JobStage;
import dev.loku.schemas.Topics;

/**
 * The unlearning worker: {@code loku.importance} in, {@code loku.candidates} out, as a {@link JobStage} around the
 * {@link WorkerJob} (partitions paused for the hours a job may take, so the group does not rebalance it away;
 * outputs and offset in one transaction; a stopped or revoked job commits nothing and its next owner runs it again
 * with the same ids). JobProgress and UNLEARNING go out at once through the stage's heartbeats. The engine is the
 * {@link UnlearningRunner} given to {@link #create}: the real one in production, a fake in tests. Scale by adding
 * instances with the same {@code worker.group.id}, up to the topic's partition count.
 */
public final class WorkerService {

    private WorkerService() {
    }

    /**
     * Reads the catalogue (checking its files) and opens the stores: a bad catalogue or an unusable store fails
     * here, at start-up. Then deletes the epoch checkpoints of jobs no worker will finish
     * ({@link EpochCheckpointSweep}).
     */
    public static JobStage create(WorkerConfig config, UnlearningRunner engine) {
        JobStage.Builder stage = JobStage.builder("worker", "unlearn-worker", config.common());
        WorkerJob job = new WorkerJob(config, stage.stores(), engine, stage.audit(), stage.finalFailure(),
                stage.heartbeats(), stage.metrics(), stage.clock());
        job.sweepCheckpoints(null);
        return stage.input("worker", Topics.IMPORTANCE, config.groupId(), input -> job.run(input.value()),
                (input, raw, error) -> job.onFailure(input.value(), raw, error)).build();
    }
}
