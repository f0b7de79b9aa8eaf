package dev.loku.fisher;

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

/**
 * The Fisher service's configuration: the {@link CommonConfig common} fields plus the {@code fisher.*} group.
 *
 * @param common  the fields every service reads
 * @param groupId consumer group of {@code loku.forget-sets} (instances of the service share it)
 * @param seed    seed of the retain sample matched to the forget set's size
 * @param device  where the engine runs: auto, cpu, gpu or gpu:N
 * @param workDir scratch folder of the jobs
 */
public record FisherConfig(CommonConfig common, String groupId, long seed, String device, Path workDir) {

    public static final ConfigField<String> GROUP_ID = ConfigField.of("fisher.group.id", ConfigType.STRING)
            .defaultValue("loku-fisher")
            .validator(Validator.identifier())
            .description("Consumer group of loku.forget-sets, shared by the service's instances; also the prefix of "
                    + "their transactional ids. Changing it starts over from the beginning of the topic.")
            .build();

    public static final ConfigField<Long> SEED = ConfigField.of("fisher.seed", ConfigType.LONG)
            .defaultValue(1234L)
            .description("Seed of the sample of the model's retain data drawn to match the forget set's size "
                    + "(docs/method.md §2.2); with the base version it makes the importance reproducible.")
            .build();

    public static final ConfigField<String> DEVICE = EngineDevice.field("fisher.device", "computes the Fisher pass");

    public static final ConfigField<Path> WORK_DIR = ConfigField.of("fisher.work.dir", ConfigType.PATH)
            .computedDefault(() -> Path.of(System.getProperty("java.io.tmpdir"), "loku-fisher-work"),
                    "(java.io.tmpdir)/loku-fisher-work")
            .description("Scratch folder of the jobs: a local copy of the forget set (personal data) and the "
                    + "importance file before it is stored; each job's folder is deleted when the job ends.")
            .build();

    /** The {@code fisher} group. */
    public static final ConfigGroup GROUP = ConfigGroup.of("fisher", "Fisher importance service", GROUP_ID, SEED,
            DEVICE, WORK_DIR);

    /** Every group the Fisher service reads. */
    public static final List<ConfigGroup> GROUPS = List.of(CommonConfig.GROUP, GROUP);

    public static FisherConfig from(LokuConfig config) {
        return new FisherConfig(CommonConfig.from(config), config.get(GROUP_ID), config.get(SEED), config.get(DEVICE),
                config.get(WORK_DIR));
    }


    /** From in-memory settings (tests, the embedded demo). */
    public static FisherConfig of(Map<String, String> settings) {
        return from(LokuConfig.of(settings, GROUPS));
    }
}
