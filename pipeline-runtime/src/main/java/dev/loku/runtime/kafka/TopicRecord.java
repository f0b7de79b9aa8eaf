package dev.loku.runtime.kafka;

import dev.loku.schemas.Topic;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;

/**
 * A record bound for a catalogue topic, typed by it: what jobs of the {@link TransactionalJobRunner} return and what
 * the audit and dead-letter emitters build. Serialized with the topic's key serde and the registry value serde when
 * sent. {@link #toString()} names topic and key only: values may be large, and keys are ids.
 *
 * @param topic     the catalogue topic: types and serdes
 * @param topicName where it is sent: the topic's name, unless redirected with {@link #to(String)} (tests)
 * @param key       the key (an id; raw bytes for dead letters)
 * @param value     the event
 */
public record TopicRecord<K, V extends SpecificRecord>(Topic<K, V> topic, String topicName, K key, V value) {

    public TopicRecord {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(topicName, "topicName");
        Objects.requireNonNull(value, "value");
    }

    public static <K, V extends SpecificRecord> TopicRecord<K, V> of(Topic<K, V> topic, K key, V value) {
        return new TopicRecord<>(topic, topic.name(), key, value);
    }

    /** The same record sent to another topic of the same types (a test's own topic, for instance). */
    public TopicRecord<K, V> to(String otherTopicName) {
        return new TopicRecord<>(topic, otherTopicName, key, value);
    }

    @Override
    public String toString() {
        return "TopicRecord[" + topicName + ", key=" + (key instanceof byte[] b ? b.length + " bytes" : key) + "]";
    }
}
