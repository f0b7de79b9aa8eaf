package dev.loku.runtime.serde;

import dev.loku.runtime.config.RegistryConfig;
import dev.loku.schemas.Topic;
import dev.loku.schemas.ValueSerdeFactory;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Value serdes backed by a schema registry, writing the Confluent wire format: byte 0, a 4-byte big-endian schema
 * id, then the Avro binary body. Whatever the registry API, the choices are the same, so records written through
 * one API read through the other:
 * <ul>
 *   <li>Subject = Confluent's TopicNameStrategy, {@code <topic>-value}.</li>
 *   <li>The id travels in the payload, not in headers.</li>
 *   <li>Each event's complete schema is registered (named types inlined), under its topic's subject only: what
 *       Confluent's own serializer does, so any Confluent-protocol client gets a self-contained schema from one
 *       lookup, and the registry holds one subject per topic, each checked FULL_TRANSITIVE as a whole.</li>
 *   <li>Producers register their schema unless {@code registry.auto.register=false}; the registry's compatibility
 *       rule refuses an incompatible one.</li>
 *   <li>Consumers read into the generated classes, resolving the writer's schema against the class's, so old and
 *       new events both decode; a record of another event type than the topic carries is refused.</li>
 * </ul>
 * Errors name the topic, the schema id and what is wrong with the bytes' framing or body, never their content.
 *
 * <p>{@link #forConfig} picks the implementation: {@link ConfluentRegistrySerdes} (the Confluent REST protocol,
 * the default) or {@link ApicurioRegistrySerdes} (Apicurio's v3 API).
 */
public interface RegistrySerdes extends ValueSerdeFactory {

    /** The serdes for the registry and API that {@code config} names. */
    static RegistrySerdes forConfig(RegistryConfig config) {
        return switch (config.api()) {
            case CONFLUENT -> new ConfluentRegistrySerdes(config);
            case APICURIO_V3 -> new ApicurioRegistrySerdes(config);
        };
    }

    /** The registry these serdes talk to. */
    RegistryConfig config();

    /** A configured serializer for {@code topic}'s values. Close it with the producer. */
    <V extends SpecificRecord> Serializer<V> valueSerializer(Topic<?, V> topic);

    /** A configured deserializer for {@code topic}'s values, producing its generated class. */
    <V extends SpecificRecord> Deserializer<V> valueDeserializer(Topic<?, V> topic);

    @Override
    default <V extends SpecificRecord> Serde<V> valueSerde(Topic<?, V> topic) {
        return new PreconfiguredSerde<>(valueSerializer(topic), valueDeserializer(topic));
    }

    /** Kafka Streams source settings for {@code topic}: its key serde and registry-backed value serde. */
    default <K, V extends SpecificRecord> Consumed<K, V> consumed(Topic<K, V> topic) {
        return Consumed.with(topic.keySerde(), valueSerde(topic));
    }

    /** Kafka Streams sink settings for {@code topic}. */
    default <K, V extends SpecificRecord> Produced<K, V> produced(Topic<K, V> topic) {
        return Produced.with(topic.keySerde(), valueSerde(topic));
    }

    /**
     * Already configured; ignores {@code configure} so that a framework configuring serdes it is handed cannot
     * replace the registry settings with its own.
     */
    record PreconfiguredSerde<V>(Serializer<V> serializer, Deserializer<V> deserializer) implements Serde<V> {
        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
        }

        @Override
        public void close() {
            serializer.close();
            deserializer.close();
        }
    }
}
