package dev.loku.schemas;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * One topic of the pipeline with everything a producer, consumer, Streams app or admin needs to know about it:
 * name, key and value types, serdes, default partition count, retention and cleanup policy. Instances live in
 * {@link Topics}; services never spell a topic name themselves.
 *
 * @param <K> key type: {@code String} (an id) for every topic except the dead letters, whose key is the original
 *            record's key bytes, kept verbatim
 * @param <V> the Avro event carried as value
 */
public final class Topic<K, V extends SpecificRecord> {

    private final String name;
    private final Class<K> keyType;
    private final String keyMeaning;
    private final Class<V> valueType;
    private final int partitions;
    private final long retentionMs;
    private final CleanupPolicy cleanupPolicy;

    Topic(String name, Class<K> keyType, String keyMeaning, Class<V> valueType, int partitions,
          Duration retention, CleanupPolicy cleanupPolicy) {
        this.name = Objects.requireNonNull(name, "name");
        this.keyType = Objects.requireNonNull(keyType, "keyType");
        this.keyMeaning = Objects.requireNonNull(keyMeaning, "keyMeaning");
        this.valueType = Objects.requireNonNull(valueType, "valueType");
        if (keyType != String.class && keyType != byte[].class) {
            throw new IllegalArgumentException("topic " + name + ": keys are String ids or raw bytes, not " + keyType.getName());
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("topic " + name + ": partitions must be >= 1, was " + partitions);
        }
        this.partitions = partitions;
        // -1 is Kafka's "keep forever"; a null retention means the same.
        this.retentionMs = retention == null ? -1L : retention.toMillis();
        this.cleanupPolicy = Objects.requireNonNull(cleanupPolicy, "cleanupPolicy");
    }

    /** The topic's name on the cluster, e.g. {@code loku.erasure-requests}. */
    public String name() {
        return name;
    }

    /** Java type of the key: {@code String.class} or {@code byte[].class}. */
    public Class<K> keyType() {
        return keyType;
    }

    /** What the key is, in words (e.g. "request id"); records with the same key stay in order. */
    public String keyMeaning() {
        return keyMeaning;
    }

    /** The generated Avro class of the values. */
    public Class<V> valueType() {
        return valueType;
    }

    /** The Avro schema of the values (the generated class's schema, named types inlined). */
    public Schema valueSchema() {
        return SpecificData.get().getSchema(valueType);
    }

    /** The registry subject of the value schema under Confluent's TopicNameStrategy: {@code <topic>-value}. */
    public String valueSubject() {
        return name + "-value";
    }

    /** Partitions a newly created topic gets; see {@link Topics} for why each count was chosen. */
    public int partitions() {
        return partitions;
    }

    /** {@code retention.ms}: how long records are kept, or -1 for ever. Irrelevant under compaction alone. */
    public long retentionMs() {
        return retentionMs;
    }

    /** {@code cleanup.policy}. */
    public CleanupPolicy cleanupPolicy() {
        return cleanupPolicy;
    }

    /** The topic-level settings this catalogue owns ({@code cleanup.policy}, {@code retention.ms}). */
    public Map<String, String> configs() {
        return Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, cleanupPolicy.configValue(),
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(retentionMs));
    }

    /** A creation request with the catalogue's partitions and settings and the broker's default replication. */
    public NewTopic newTopic() {
        return new NewTopic(name, Optional.of(partitions), Optional.empty()).configs(configs());
    }

    /** Like {@link #newTopic()} with an explicit replication factor (production clusters: 3). */
    public NewTopic newTopic(short replicationFactor) {
        return new NewTopic(name, partitions, replicationFactor).configs(configs());
    }

    /** The key serde: UTF-8 strings for ids, or raw bytes for the dead letters. Needs no registry. */
    @SuppressWarnings("unchecked")
    public Serde<K> keySerde() {
        return keyType == String.class ? (Serde<K>) Serdes.String() : (Serde<K>) Serdes.ByteArray();
    }

    /** The value serde made by {@code factory} (normally the registry-backed one). */
    public Serde<V> valueSerde(ValueSerdeFactory factory) {
        return factory.valueSerde(this);
    }

    @Override
    public String toString() {
        return name + " (key " + keyMeaning + ", value " + valueType.getSimpleName() + ")";
    }
}
