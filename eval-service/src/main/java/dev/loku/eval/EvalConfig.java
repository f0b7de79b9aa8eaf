package dev.loku.eval;

import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.ConfigType;
import dev.loku.runtime.config.LokuConfig;
import dev.loku.runtime.config.Validator;
import dev.loku.runtime.job.EngineDevice;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The eval service's configuration: the {@link CommonConfig common} fields plus the {@code eval.*} group.
 *
 * @param common            the fields every service reads
 * @param groupId           consumer group of {@code loku.candidates}
 * @param purgeGroupId      consumer group of {@code loku.verifications} for the purge
 * @param device            where the engine evaluates: auto, cpu, gpu or gpu:N
 * @param retainTolerance   overrides every profile's retain tolerance when present
 * @param generalTolerance  overrides every profile's general tolerance (NLL rise on the general-text set) when present
 * @param baselineCacheSize base-version evaluations kept in memory
 * @param workDir           scratch folder of the jobs
 */
public record EvalConfig(CommonConfig common, String groupId, String purgeGroupId, String device,
                         OptionalDouble retainTolerance, OptionalDouble generalTolerance, int baselineCacheSize,
                         Path workDir) {

    public static final ConfigField<String> GROUP_ID = ConfigField.of("eval.group.id", ConfigType.STRING)
            .defaultValue("loku-eval")
            .validator(Validator.identifier())
            .description("Consumer group of loku.candidates, shared by the service's instances; also the prefix of "
                    + "their transactional ids.")
            .build();

    public static final ConfigField<String> PURGE_GROUP_ID = ConfigField.of("eval.purge.group.id", ConfigType.STRING)
            .defaultValue("loku-eval-purge")
            .validator(Validator.identifier())
            .description("Consumer group of loku.verifications for the purge that follows every final verdict "
                    + "(whichever stage emitted it); also the prefix of its transactional ids.")
            .build();

    public static final ConfigField<String> DEVICE = EngineDevice.field("eval.device", "measures MA, EL_10 and NLL");

    public static final ConfigField<Double> RETAIN_TOLERANCE = ConfigField.of("eval.retain.tolerance", ConfigType.DOUBLE)
            .computedDefault(() -> null, "each model's profile retainTolerance")
            .validator(Validator.between(0.0, 1.0))
            .description("Largest allowed drop of retain-set memorisation accuracy (0.05 = 5 points) for a PASS, "
                    + "for every model, instead of each profile's own retainTolerance. Leave unset normally.")
            .build();

    public static final ConfigField<Double> GENERAL_TOLERANCE = ConfigField.of("eval.general.tolerance",
                    ConfigType.DOUBLE)
            .computedDefault(() -> null, "each model's profile generalTolerance")
            .validator(Validator.between(0.0, 100.0))
            .description("Largest allowed rise of the mean NLL (nats per token) on each model's held-out general-text "
                    + "set (catalogue generalData) for a PASS, for every model, instead of each profile's own "
                    + "generalTolerance: the general-ability guard. Leave unset normally.")
            .build();

    public static final ConfigField<Integer> BASELINE_CACHE_SIZE = ConfigField.of("eval.baseline.cache.size",
                    ConfigType.INT)
            .defaultValue(32)
            .validator(Validator.between(1, 10_000))
            .description("Evaluations of base versions kept in memory, one per (model, base version, forget set): "
                    + "a retry of a forget set measures only its new candidate.")
            .build();

    public static final ConfigField<Path> WORK_DIR = ConfigField.of("eval.work.dir", ConfigType.PATH)
            .computedDefault(() -> Path.of(System.getProperty("java.io.tmpdir"), "loku-eval-work"),
                    "(java.io.tmpdir)/loku-eval-work")
            .description("Scratch folder of the jobs: a local copy of the forget set (personal data); each job's "
                    + "folder is deleted when the job ends.")
            .build();

    /** The {@code eval} group. */
    public static final ConfigGroup GROUP = ConfigGroup.of("eval", "Eval service", GROUP_ID, PURGE_GROUP_ID, DEVICE,
            RETAIN_TOLERANCE, GENERAL_TOLERANCE, BASELINE_CACHE_SIZE, WORK_DIR);

    /** Every group the eval service reads. */
    public static final List<ConfigGroup> GROUPS = List.of(CommonConfig.GROUP, GROUP);

    public static EvalConfig from(LokuConfig config) {
        Double tolerance = config.get(RETAIN_TOLERANCE);
        Double general = config.get(GENERAL_TOLERANCE);
        return new EvalConfig(CommonConfig.from(config), config.get(GROUP_ID), config.get(PURGE_GROUP_ID),
                config.get(DEVICE), tolerance == null ? OptionalDouble.empty() : OptionalDouble.of(tolerance),
                general == null ? OptionalDouble.empty() : OptionalDouble.of(general),
                config.get(BASELINE_CACHE_SIZE), config.get(WORK_DIR));
    }


    /** From in-memory settings (tests, the embedded demo). */
    public static EvalConfig of(Map<String, String> settings) {
        return from(LokuConfig.of(settings, GROUPS));
    }
}
