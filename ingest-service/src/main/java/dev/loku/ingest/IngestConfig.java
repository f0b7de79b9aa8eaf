package dev.loku.ingest;

import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.ConfigType;
import dev.loku.runtime.config.LokuConfig;
import dev.loku.runtime.config.Validator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The ingest service's configuration: the {@link CommonConfig common} fields plus the {@code ingest.*} group.
 *
 * @param common             the fields every service reads
 * @param applicationId      Kafka Streams application id (consumer group, internal topic prefix)
 * @param stateDir           where Streams keeps its local state
 * @param batchMaxRequests   requests that make a forget set at once
 * @param batchMaxWait       longest a request waits for others before its set is cut anyway
 * @param batchCheckInterval how often the batcher checks, by the wall clock, for sets that waited long enough
 * @param maxContentBytes    largest request content accepted, in UTF-8 bytes of its texts, questions and answers
 * @param commitInterval     Streams commit interval (exactly-once transactions close this often)
 * @param streamThreads      Streams threads
 * @param dedupeRetention    how long a request id is remembered for deduplication
 */
public record IngestConfig(CommonConfig common, String applicationId, Path stateDir, int batchMaxRequests,
                           Duration batchMaxWait, Duration batchCheckInterval, int maxContentBytes,
                           Duration commitInterval, int streamThreads, Duration dedupeRetention) {

    public static final ConfigField<String> APPLICATION_ID = ConfigField.of("ingest.application.id", ConfigType.STRING)
            .defaultValue("loku-ingest")
            .validator(Validator.identifier())
            .description("Kafka Streams application id: the consumer group and the prefix of the internal topics. "
                    + "Changing it starts over from the beginning of the request topic with empty state.")
            .build();

    public static final ConfigField<Path> STATE_DIR = ConfigField.of("ingest.state.dir", ConfigType.PATH)
            .computedDefault(() -> Path.of(System.getProperty("java.io.tmpdir"), "loku-ingest-state"),
                    "(java.io.tmpdir)/loku-ingest-state")
            .description("Folder of the Streams state stores (dedupe ids, batches); rebuilt from changelogs if lost.")
            .build();

    public static final ConfigField<Integer> BATCH_MAX_REQUESTS = ConfigField.of("ingest.batch.max.requests", ConfigType.INT)
            .defaultValue(8)
            .validator(Validator.between(1, 10_000))
            .description("A model's waiting requests are cut into a forget set as soon as there are this many (and no "
                    + "set of the model is in flight).")
            .build();

    public static final ConfigField<Duration> BATCH_MAX_WAIT = ConfigField.of("ingest.batch.max.wait", ConfigType.DURATION)
            .defaultValue(Duration.ofSeconds(60))
            .validator(Validator.positiveDuration())
            .description("A model's waiting requests are cut into a forget set once the oldest has waited this long "
                    + "(and no set of the model is in flight), however few they are.")
            .build();

    public static final ConfigField<Duration> BATCH_CHECK_INTERVAL = ConfigField.of("ingest.batch.check.interval",
                    ConfigType.DURATION)
            .defaultValue(Duration.ofSeconds(1))
            .validator(Validator.positiveDuration())
            .description("How often, by the wall clock, the batcher looks for sets that waited long enough.")
            .build();

    public static final ConfigField<Integer> MAX_CONTENT_BYTES = ConfigField.of("ingest.max.content.bytes", ConfigType.INT)
            .defaultValue(256 * 1024)
            .validator(Validator.between(1, 64 * 1024 * 1024))
            .description("Largest request content accepted: UTF-8 bytes of its texts, questions and answers. A larger "
                    + "request is REJECTED.")
            .build();

    public static final ConfigField<Duration> COMMIT_INTERVAL = ConfigField.of("ingest.commit.interval", ConfigType.DURATION)
            .defaultValue(Duration.ofMillis(100))
            .validator(Validator.positiveDuration())
            .description("Kafka Streams commit.interval.ms: how often exactly-once transactions commit; outputs "
                    + "become visible to read_committed consumers at that pace.")
            .build();

    public static final ConfigField<Integer> STREAM_THREADS = ConfigField.of("ingest.stream.threads", ConfigType.INT)
            .defaultValue(1)
            .validator(Validator.between(1, 64))
            .description("Kafka Streams threads in this instance.")
            .build();

    public static final ConfigField<Duration> DEDUPE_RETENTION = ConfigField.of("ingest.dedupe.retention",
                    ConfigType.DURATION)
            .defaultValue(Duration.ofDays(30))
            .validator(Validator.positiveDuration())
            .description("How long a request id is remembered: a copy re-sent within this time makes no second job. "
                    + "Older ids are swept from the dedupe store about every hour, so the store stays bounded; keep "
                    + "it longer than any producer's retry horizon and the request topic's retention.")
            .build();

    /** The {@code ingest} group. */
    public static final ConfigGroup GROUP = ConfigGroup.of("ingest", "Ingest service", APPLICATION_ID, STATE_DIR,
            BATCH_MAX_REQUESTS, BATCH_MAX_WAIT, BATCH_CHECK_INTERVAL, MAX_CONTENT_BYTES, COMMIT_INTERVAL, STREAM_THREADS,
            DEDUPE_RETENTION);

    /** Every group the ingest service reads. */
    public static final List<ConfigGroup> GROUPS = List.of(CommonConfig.GROUP, GROUP);

    public static IngestConfig from(LokuConfig config) {
        return new IngestConfig(CommonConfig.from(config), config.get(APPLICATION_ID), config.get(STATE_DIR),
                config.get(BATCH_MAX_REQUESTS), config.get(BATCH_MAX_WAIT), config.get(BATCH_CHECK_INTERVAL),
                config.get(MAX_CONTENT_BYTES), config.get(COMMIT_INTERVAL), config.get(STREAM_THREADS),
                config.get(DEDUPE_RETENTION));
    }


    /** From in-memory settings (tests, the embedded demo). */
    public static IngestConfig of(Map<String, String> settings) {
        return from(LokuConfig.of(settings, GROUPS));
    }
}
