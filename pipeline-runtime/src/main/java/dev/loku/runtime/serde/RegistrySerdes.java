package dev.loku.runtime.serde;

import dev.loku.schemas.Topic;
import dev.loku.schemas.ValueSerdeFactory;
import io.apicurio.registry.resolver.config.SchemaResolverConfig;
import io.apicurio.registry.rest.client.models.ProblemDetails;
import io.apicurio.registry.serde.Default4ByteIdHandler;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.apicurio.registry.serde.avro.AvroSerdeConfig;
import io.apicurio.registry.serde.config.IdOption;
import io.apicurio.registry.serde.config.SerdeConfig;
import io.apicurio.registry.serde.kafka.config.KafkaSerdeConfig;
import io.apicurio.registry.serde.strategy.TopicIdStrategy;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Value serdes backed by the schema registry, writing the Confluent wire format: byte 0, a 4-byte big-endian schema
 * id, then the Avro binary body. The id is the registry's content id, which is what Apicurio's Confluent-compatible
 * API ({@code /apis/ccompat/v7/schemas/ids/{id}}) serves, so a Confluent client pointed at that API can read our
 * topics. Choices, each set explicitly rather than left to Apicurio's defaults:
 * <ul>
 *   <li>Subject = Confluent's TopicNameStrategy, {@code <topic>-value} (Apicurio's {@link TopicIdStrategy}).</li>
 *   <li>The id travels in the payload, not in headers (headers off), or it would not be the Confluent format.</li>
 *   <li><b>Dereferenced registration.</b> By default Apicurio registers every nested named type (ArtifactRef,
 *       QaPair, each enum...) as a subject of its own and the event as a schema with references. We register each
 *       event's complete schema, named types inlined, under its topic's subject only: what Confluent's own
 *       serializer does, so any Confluent-compatible client gets a self-contained schema from one lookup and the
 *       registry holds one subject per topic, each checked FULL_TRANSITIVE as a whole.</li>
 *   <li>Producers auto-register (the registry's FULL_TRANSITIVE rule refuses an incompatible schema); pass
 *       {@code apicurio.registry.auto-register=false} as an override to require pre-registered schemas.</li>
 *   <li>Consumers read into the generated classes, resolving the writer's schema against the class's (specific
 *       reader), so old and new events both decode.</li>
 * </ul>
 */
public final class RegistrySerdes implements ValueSerdeFactory {

    private final String registryUrl;
    private final Map<String, Object> overrides;

    /**
     * @param registryUrl the registry's core v3 API, e.g. {@code http://localhost:8080/apis/registry/v3}
     */
    public RegistrySerdes(String registryUrl) {
        this(registryUrl, Map.of());
    }

    /**
     * @param overrides extra Apicurio serde settings (auth, TLS, auto-register...) applied over the defaults above
     */
    public RegistrySerdes(String registryUrl, Map<String, ?> overrides) {
        this.registryUrl = Objects.requireNonNull(registryUrl, "registryUrl");
        this.overrides = Map.copyOf(overrides);
    }

    /** The registry API the serdes talk to. */
    public String registryUrl() {
        return registryUrl;
    }

    /** Settings for Apicurio's {@link AvroKafkaSerializer} (for plain producers configured by properties). */
    public Map<String, Object> serializerConfig() {
        Map<String, Object> c = common();
        c.put(SchemaResolverConfig.AUTO_REGISTER_ARTIFACT, true);
        c.put(SchemaResolverConfig.AUTO_REGISTER_ARTIFACT_IF_EXISTS, "FIND_OR_CREATE_VERSION");
        c.put(SchemaResolverConfig.FIND_LATEST_ARTIFACT, false);
        c.putAll(overrides);
        return c;
    }

    /** Settings for Apicurio's {@link AvroKafkaDeserializer}. */
    public Map<String, Object> deserializerConfig() {
        Map<String, Object> c = common();
        c.put(AvroSerdeConfig.USE_SPECIFIC_AVRO_READER, true);
        c.putAll(overrides);
        return c;
    }

    private Map<String, Object> common() {
        Map<String, Object> c = new HashMap<>();
        c.put(SchemaResolverConfig.REGISTRY_URL, registryUrl);
        c.put(SchemaResolverConfig.ARTIFACT_RESOLVER_STRATEGY, TopicIdStrategy.class.getName());
        c.put(SchemaResolverConfig.DEREFERENCE_SCHEMA, true);
        c.put(SerdeConfig.ID_HANDLER, Default4ByteIdHandler.class.getName());
        c.put(SerdeConfig.USE_ID, IdOption.contentId.name());
        c.put(KafkaSerdeConfig.ENABLE_HEADERS, false);
        c.put(AvroSerdeConfig.AVRO_ENCODING, AvroSerdeConfig.AVRO_ENCODING_BINARY);
        return c;
    }

    /** A configured serializer for {@code topic}'s values. Close it with the producer. */
    public <V extends SpecificRecord> Serializer<V> valueSerializer(Topic<?, V> topic) {
        AvroKafkaSerializer<V> serializer = new AvroKafkaSerializer<>();
        serializer.configure(serializerConfig(), false);
        return serializer;
    }

    /** A configured deserializer for {@code topic}'s values, producing its generated class. */
    public <V extends SpecificRecord> Deserializer<V> valueDeserializer(Topic<?, V> topic) {
        AvroKafkaDeserializer<V> deserializer = new AvroKafkaDeserializer<>();
        deserializer.configure(deserializerConfig(), false);
        return new CheckedDeserializer<>(deserializer, topic.valueType());
    }

    @Override
    public <V extends SpecificRecord> Serde<V> valueSerde(Topic<?, V> topic) {
        return new PreconfiguredSerde<>(valueSerializer(topic), valueDeserializer(topic));
    }

    /** Kafka Streams source settings for {@code topic}: its key serde and registry-backed value serde. */
    public <K, V extends SpecificRecord> Consumed<K, V> consumed(Topic<K, V> topic) {
        return Consumed.with(topic.keySerde(), valueSerde(topic));
    }

    /** Kafka Streams sink settings for {@code topic}. */
    public <K, V extends SpecificRecord> Produced<K, V> produced(Topic<K, V> topic) {
        return Produced.with(topic.keySerde(), valueSerde(topic));
    }

    /**
     * Already configured; ignores {@code configure} so that a framework configuring serdes it is handed cannot
     * replace the registry settings with its own.
     */
    private record PreconfiguredSerde<V>(Serializer<V> serializer, Deserializer<V> deserializer) implements Serde<V> {
        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
        }

        @Override
        public void close() {
            serializer.close();
            deserializer.close();
        }
    }

    /**
     * Refuses a record whose schema is a different event than the topic carries (e.g. an AuditEvent written to the
     * erasure-requests topic), instead of handing the caller an object of the wrong class.
     */
    private record CheckedDeserializer<V>(Deserializer<V> delegate, Class<V> type) implements Deserializer<V> {
        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
        }

        @Override
        public V deserialize(String topic, byte[] data) {
            try {
                return check(topic, delegate.deserialize(topic, data));
            } catch (RuntimeException e) {
                throw explained(data, e);
            }
        }

        @Override
        public V deserialize(String topic, org.apache.kafka.common.header.Headers headers, byte[] data) {
            try {
                return check(topic, delegate.deserialize(topic, headers, data));
            } catch (RuntimeException e) {
                throw explained(data, e);
            }
        }

        /** Replaces the registry client's often message-less exceptions with one that says what was wrong. */
        private static RuntimeException explained(byte[] data, RuntimeException e) {
            if (e instanceof UndecodableValueException) {
                return e;
            }
            var header = ConfluentWireFormat.headerProblem(data);
            if (header.isPresent()) {
                return new UndecodableValueException(header.get(), e);
            }
            int id = ConfluentWireFormat.schemaId(data).orElseThrow();
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ProblemDetails p) {
                    return new UndecodableValueException("schema id " + id + " in the value's header could not be "
                            + "fetched from the registry: HTTP " + p.getStatus() + " " + p.getTitle()
                            + (p.getDetail() == null ? "" : " (" + p.getDetail() + ")"), e);
                }
                if (t instanceof java.io.IOException || t instanceof org.apache.avro.AvroRuntimeException) {
                    return new UndecodableValueException("the Avro body (" + (data.length - ConfluentWireFormat.HEADER_SIZE)
                            + " bytes) does not decode with schema id " + id + ": " + t.getClass().getSimpleName()
                            + ": " + t.getMessage(), e);
                }
            }
            return e instanceof org.apache.kafka.common.errors.SerializationException ? e
                    : new UndecodableValueException("value with schema id " + id + " could not be decoded: " + e, e);
        }

        private V check(String topic, Object value) {
            if (value != null && !type.isInstance(value)) {
                throw new org.apache.kafka.common.errors.SerializationException("topic " + topic + " carries "
                        + type.getSimpleName() + " but the record holds a " + value.getClass().getSimpleName());
            }
            return type.cast(value);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
