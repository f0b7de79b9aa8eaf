package dev.loku.ingest;

import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.ConfigType;
import dev.loku.runtime.config.InvalidConfigException;
import dev.loku.runtime.config.LokuConfig;
import dev.loku.runtime.config.Validator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * @param setMaxRequests     most requests one forget set takes
 * @param setMaxBytes        most content bytes one forget set takes (its artifact's size)
 * @param gateTimeout        longest a forget set may go without a verdict before ingest closes it
 * @param tenantHeader       the record header in which a trusted gateway names the authenticated tenant; null
 *                           when the payload's tenantId is trusted (a cluster whose request topic only one tenant
 *                           can write)
 */
public record IngestConfig(CommonConfig common, String applicationId, Path stateDir, int batchMaxRequests,
                           Duration batchMaxWait, Duration batchCheckInterval, int maxContentBytes,
                           Duration commitInterval, int streamThreads, Duration dedupeRetention, int setMaxRequests,
                           int setMaxBytes, Duration gateTimeout, String tenantHeader) {

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

    /**
     * Upper bound of {@link #SET_MAX_REQUESTS}: a set's members are listed in its ForgetSetReady, its verdict and the
     * batcher's in-flight record, and 2,000 members keep each of those well under Kafka's default 1 MB record limit
     * (about 170 bytes per member with a 64-character tenant id).
     */
    static final int MAX_SET_REQUESTS = 2_000;

    public static final ConfigField<Integer> SET_MAX_REQUESTS = ConfigField.of("ingest.forget.set.max.requests",
                    ConfigType.INT)
            .defaultValue(256)
            .validator(Validator.between(1, MAX_SET_REQUESTS))
            .description("Most requests one forget set takes. When more wait (a backlog built up behind the gate), a "
                    + "cut takes the oldest this many and the rest wait for the next set. Must be at least "
                    + "ingest.batch.max.requests.")
            .build();

    public static final ConfigField<Integer> SET_MAX_BYTES = ConfigField.of("ingest.forget.set.max.bytes", ConfigType.INT)
            .defaultValue(8 * 1024 * 1024)
            .validator(Validator.between(1024, 256 * 1024 * 1024))
            .description("Most content one forget set takes, in bytes of its artifact (the members' JSONL): a cut "
                    + "stops before the request that would pass it, so the set is read, trained and held in memory "
                    + "within this size (a request whose content alone is larger makes a set of its own). Must be at "
                    + "least ingest.max.content.bytes.")
            .build();

    public static final ConfigField<Duration> GATE_TIMEOUT = ConfigField.of("ingest.gate.timeout", ConfigType.DURATION)
            .defaultValue(Duration.ofHours(6))
            .validator(Validator.positiveDuration())
            .description("Longest a model's forget set may go without a verdict (counted from its cut, and again from "
                    + "each retrying verdict) before ingest gives up on it: its requests are audited FAILED with the "
                    + "reason, a final FAIL verdict is published for it (so its data are purged and later events for "
                    + "it ignored), and the model's gate opens. Keep it longer than one attempt of the slowest job "
                    + "(Fisher pass, training, evaluation).")
            .build();

    public static final ConfigField<String> TENANT_HEADER = ConfigField.of("ingest.tenant.header", ConfigType.STRING)
            .optional()
            .validator(Validator.identifier())
            .description("Record header that names the tenant a trusted gateway authenticated (e.g. loku-tenant). "
                    + "When set, a request without it, or whose tenantId differs from it, is REJECTED with that "
                    + "reason; give the gateway's principal the only WRITE ACL on loku.erasure-requests. Kafka "
                    + "does not tell a consumer which principal produced a record, so the gateway must set it. "
                    + "Unset: the payload's tenantId is trusted.")
            .build();

    /** The {@code ingest} group. */
    public static final ConfigGroup GROUP = ConfigGroup.of("ingest", "Ingest service", APPLICATION_ID, STATE_DIR,
            BATCH_MAX_REQUESTS, BATCH_MAX_WAIT, BATCH_CHECK_INTERVAL, MAX_CONTENT_BYTES, COMMIT_INTERVAL, STREAM_THREADS,
            DEDUPE_RETENTION, SET_MAX_REQUESTS, SET_MAX_BYTES, GATE_TIMEOUT, TENANT_HEADER);

    /** Every group the ingest service reads. */
    public static final List<ConfigGroup> GROUPS = List.of(CommonConfig.GROUP, GROUP);

    /** @throws InvalidConfigException when the forget-set caps are below what they must hold */
    public static IngestConfig from(LokuConfig config) {
        IngestConfig c = new IngestConfig(CommonConfig.from(config), config.get(APPLICATION_ID), config.get(STATE_DIR),
                config.get(BATCH_MAX_REQUESTS), config.get(BATCH_MAX_WAIT), config.get(BATCH_CHECK_INTERVAL),
                config.get(MAX_CONTENT_BYTES), config.get(COMMIT_INTERVAL), config.get(STREAM_THREADS),
                config.get(DEDUPE_RETENTION), config.get(SET_MAX_REQUESTS), config.get(SET_MAX_BYTES),
                config.get(GATE_TIMEOUT), config.get(TENANT_HEADER));
        List<String> problems = new ArrayList<>();
        if (c.setMaxRequests() < c.batchMaxRequests()) {
            problems.add(SET_MAX_REQUESTS.name() + " = " + c.setMaxRequests() + " is below " + BATCH_MAX_REQUESTS.name()
                    + " = " + c.batchMaxRequests() + ": a set could never hold the requests that trigger its cut; "
                    + "raise the first or lower the second");
        }
        if (c.setMaxBytes() < c.maxContentBytes()) {
            problems.add(SET_MAX_BYTES.name() + " = " + c.setMaxBytes() + " is below " + MAX_CONTENT_BYTES.name()
                    + " = " + c.maxContentBytes() + ": an accepted request might not fit in any set; raise the first "
                    + "or lower the second");
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigException("invalid configuration", problems);
        }
        return c;
    }


    /** From in-memory settings (tests, the embedded demo). */
    public static IngestConfig of(Map<String, String> settings) {
        return from(LokuConfig.of(settings, GROUPS));
    }
}
