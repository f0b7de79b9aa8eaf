package dev.loku.worker;

import ai.djl.ndarray.types.DataType;
import dev.loku.core.engine.EpochEvaluation;
import dev.loku.core.engine.MicroBatchWeighting;
import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.ConfigType;
import dev.loku.runtime.config.LokuConfig;
import dev.loku.runtime.config.Validator;
import dev.loku.runtime.job.EngineDevice;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The unlearning worker's configuration: the {@link CommonConfig common} fields plus the {@code worker.*} group.
 *
 * @param common         the fields every service reads
 * @param groupId        consumer group of {@code loku.importance}
 * @param seed           seed of every training run (recorded in UnlearnCompleted)
 * @param device         where the engine trains: auto, cpu, gpu or gpu:N
 * @param maxEpochsCap   upper bound on a profile's epoch budget after retries strengthened it
 * @param workDir        scratch folder of the jobs
 * @param checkpointActivations recompute each layer in the backward instead of keeping its intermediates
 * @param epochEvaluation what each epoch measures: {@code stop-rule} or {@code every-epoch}
 * @param weightDtype    how the base weights are held: {@code fp32} or {@code fp16}
 * @param microBatchWeighting how an epoch's micro-batches make its step: {@code equal} or {@code tokens}
 * @param epochCheckpointDir where each job keeps its state after every trained epoch, to resume there
 * @param epochCheckpointRetention how long a job folder there may go unwritten before the sweep deletes it
 * @param exportDtype    the type of the candidate's weights: {@code auto} (the checkpoint's own), fp32, fp16 or bf16
 */
public record WorkerConfig(CommonConfig common, String groupId, long seed, String device, int maxEpochsCap,
                           Path workDir, boolean checkpointActivations, String epochEvaluation, String weightDtype,
                           String microBatchWeighting, Path epochCheckpointDir, Duration epochCheckpointRetention,
                           String exportDtype) {

    public static final ConfigField<String> GROUP_ID = ConfigField.of("worker.group.id", ConfigType.STRING)
            .defaultValue("loku-worker")
            .validator(Validator.identifier())
            .description("Consumer group of loku.importance, shared by the workers (scale up to the topic's "
                    + "partition count); also the prefix of their transactional ids.")
            .build();

    public static final ConfigField<Long> SEED = ConfigField.of("worker.seed", ConfigType.LONG)
            .defaultValue(42L)
            .description("Seed of every training run (adapter initialisation noise, retain sampling, dropout); "
                    + "recorded in UnlearnCompleted so a run can be reproduced.")
            .build();

    public static final ConfigField<String> DEVICE = EngineDevice.field("worker.device", "trains");

    public static final ConfigField<Integer> MAX_EPOCHS_CAP = ConfigField.of("worker.max.epochs.cap", ConfigType.INT)
            .defaultValue(100)
            .validator(Validator.between(1, 100_000))
            .description("Upper bound on a run's epoch budget, whatever the profile and its retry strengthening "
                    + "ask for: bounds how long one job can hold a GPU.")
            .build();

    public static final ConfigField<Path> WORK_DIR = ConfigField.of("worker.work.dir", ConfigType.PATH)
            .computedDefault(() -> Path.of(System.getProperty("java.io.tmpdir"), "loku-worker-work"),
                    "(java.io.tmpdir)/loku-worker-work")
            .description("Scratch folder of the jobs: local copies of the forget set (personal data) and importance, "
                    + "and the trained model before it is stored; each job's folder is deleted when the job ends.")
            .build();

    public static final ConfigField<Boolean> CHECKPOINT_ACTIVATIONS = ConfigField.of(
                    "worker.activation.checkpointing", ConfigType.BOOLEAN)
            .defaultValue(false)
            .description("Activation checkpointing in training: each layer's intermediates are recomputed in the "
                    + "backward instead of kept, so a step holds one layer's activations, not all of them; the "
                    + "gradients are the same, a step costs about one more forward. For models whose step does not "
                    + "fit the worker's memory otherwise (docs/operations.md).")
            .build();

    public static final ConfigField<String> EPOCH_EVALUATION = ConfigField.of("worker.epoch.evaluation",
                    ConfigType.STRING)
            .defaultValue("stop-rule")
            .validator(Validator.oneOf(List.of("stop-rule", "every-epoch")))
            .description("What the worker measures after each epoch. stop-rule: forget MA every epoch, forget EL_10 "
                    + "only once MA is below its threshold, retain MA and NLL at epoch 0 and at the last epoch (the "
                    + "same stopping epoch and model; JobProgress then carries EL_10 as NaN and retain as null where "
                    + "not measured). every-epoch: all four after every epoch, for full progress curves.")
            .build();

    public static final ConfigField<String> WEIGHT_DTYPE = ConfigField.of("worker.weight.dtype", ConfigType.STRING)
            .defaultValue("fp32")
            .validator(Validator.oneOf(List.of("fp32", "fp16")))
            .description("How the worker holds a model's base weights while it trains: fp32, or fp16 on a GPU (half "
                    + "the memory; products in float16, softmaxes, norms, losses, LoRA factors and optimiser state in "
                    + "float32; the candidate is exported in float16). Recorded as weight_dtype in UnlearnCompleted's "
                    + "hyper-parameters. bf16 is not offered: DJL 0.36's PyTorch JNI has no bfloat16.")
            .build();

    public static final ConfigField<String> MICRO_BATCH_WEIGHTING = ConfigField.of("worker.micro.batch.weighting",
                    ConfigType.STRING)
            .defaultValue("equal")
            .validator(Validator.oneOf(List.of("equal", "tokens")))
            .description("How an epoch's micro-batches make its one optimiser step. equal: each counts 1/n, the mean "
                    + "of the micro-batch losses (the paper's recipe). tokens: each objective term counts by its "
                    + "micro-batch's label tokens over the epoch's (sequences for NPO's term, padded positions for "
                    + "KL's), so the step is one mean over the whole forget set (docs/engine.md). Recorded as "
                    + "micro_batch_weighting in UnlearnCompleted's hyper-parameters.")
            .build();

    public static final ConfigField<Path> EPOCH_CHECKPOINT_DIR = ConfigField.of("worker.epoch.checkpoint.dir",
                    ConfigType.PATH)
            .computedDefault(() -> Path.of(System.getProperty("java.io.tmpdir"), "loku-worker-checkpoints"),
                    "(java.io.tmpdir)/loku-worker-checkpoints")
            .description("Where each job keeps its training state (adapter, optimiser moments, epoch records) after "
                    + "every trained epoch, one folder per job: a job stopped part-way (its worker killed, its "
                    + "partition moved by a rebalance) resumes after its last finished epoch instead of epoch 0 and "
                    + "ends as if never stopped. Point it at a volume every worker mounts so that the next owner of "
                    + "the partition finds it (docs/operations.md). Derived from the forget set: a job's folder is "
                    + "deleted when the job ends, or by the sweep (worker.epoch.checkpoint.retention).")
            .build();

    public static final ConfigField<Duration> EPOCH_CHECKPOINT_RETENTION = ConfigField.of(
                    "worker.epoch.checkpoint.retention", ConfigType.DURATION)
            .defaultValue(Duration.ofDays(7))
            .validator(Validator.positiveDuration())
            .description("A job folder under worker.epoch.checkpoint.dir in which nothing was written for this long is "
                    + "deleted (at start-up and before each job): it belongs to a job no worker will finish, and it is "
                    + "derived from the forget set. A running job rewrites its checkpoint after every epoch, so keep "
                    + "this well above the longest epoch.")
            .build();

    public static final ConfigField<String> EXPORT_DTYPE = ConfigField.of("worker.export.dtype", ConfigType.STRING)
            .defaultValue("auto")
            .validator(Validator.oneOf(List.of("auto", "fp32", "fp16", "bf16")))
            .description("The type of the weights in the candidate model the worker publishes (and its residual "
                    + "base): auto keeps the checkpoint's own (a bfloat16 checkpoint comes back bfloat16; float16 with "
                    + "worker.weight.dtype=fp16), or fp32, fp16, bf16 (written from the float32 weights, rounded to "
                    + "nearest even: half the bytes of fp32). The adapter stays float32. Recorded as export_dtype in "
                    + "UnlearnCompleted's hyper-parameters.")
            .build();

    /** The {@code worker} group. */
    public static final ConfigGroup GROUP = ConfigGroup.of("worker", "Unlearning worker", GROUP_ID, SEED, DEVICE,
            MAX_EPOCHS_CAP, WORK_DIR, CHECKPOINT_ACTIVATIONS, EPOCH_EVALUATION, WEIGHT_DTYPE, MICRO_BATCH_WEIGHTING,
            EPOCH_CHECKPOINT_DIR, EPOCH_CHECKPOINT_RETENTION, EXPORT_DTYPE);

    /** Every group the worker reads. */
    public static final List<ConfigGroup> GROUPS = List.of(CommonConfig.GROUP, GROUP);

    public static WorkerConfig from(LokuConfig config) {
        return new WorkerConfig(CommonConfig.from(config), config.get(GROUP_ID), config.get(SEED), config.get(DEVICE),
                config.get(MAX_EPOCHS_CAP), config.get(WORK_DIR), config.get(CHECKPOINT_ACTIVATIONS),
                config.get(EPOCH_EVALUATION), config.get(WEIGHT_DTYPE), config.get(MICRO_BATCH_WEIGHTING),
                config.get(EPOCH_CHECKPOINT_DIR), config.get(EPOCH_CHECKPOINT_RETENTION), config.get(EXPORT_DTYPE));
    }


    /** From in-memory settings (tests, the embedded demo). */
    public static WorkerConfig of(Map<String, String> settings) {
        return from(LokuConfig.of(settings, GROUPS));
    }

    /** {@link #weightDtype} as DJL's type. */
    public DataType engineWeightType() {
        return "fp16".equals(weightDtype) ? DataType.FLOAT16 : DataType.FLOAT32;
    }

    /** {@link #exportDtype} as DJL's type; null for auto (each checkpoint's own). */
    public DataType engineExportType() {
        return switch (exportDtype) {
            case "fp32" -> DataType.FLOAT32;
            case "fp16" -> DataType.FLOAT16;
            case "bf16" -> DataType.BFLOAT16;
            default -> null;
        };
    }

    /** {@link #microBatchWeighting} as the engine names it. */
    public MicroBatchWeighting engineMicroBatchWeighting() {
        return "tokens".equals(microBatchWeighting) ? MicroBatchWeighting.TOKENS : MicroBatchWeighting.EQUAL;
    }

    /** {@link #epochEvaluation} as the engine names it. */
    public EpochEvaluation engineEpochEvaluation() {
        return "every-epoch".equals(epochEvaluation) ? EpochEvaluation.EVERY_EPOCH : EpochEvaluation.STOP_RULE;
    }
}
