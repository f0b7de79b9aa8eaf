package dev.loku.runtime.serde;

import dev.loku.runtime.config.RegistryConfig;
import dev.loku.schemas.Topic;
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
import org.apache.kafka.common.serialization.Serializer;

/**
 * {@link RegistrySerdes} over Apicurio Registry's own v3 API, through Apicurio's Kafka serdes: the
 * {@code registry.api=apicurio-v3} choice. Set explicitly rather than left to Apicurio's defaults, so that what it
 * writes is what {@link ConfluentRegistrySerdes} writes and reads:
 * <ul>
 *   <li>Subject = Apicurio's {@link TopicIdStrategy}, {@code <topic>-value} as in Confluent's TopicNameStrategy.</li>
 *   <li>The id is the registry's content id, 4 bytes in the payload (headers off): what Apicurio's
 *       Confluent-compatible API serves at {@code /apis/ccompat/v7/schemas/ids/{id}}.</li>
 *   <li><b>Dereferenced registration.</b> By default Apicurio registers every nested named type (ArtifactRef,
 *       QaPair, each enum...) as a subject of its own and the event as a schema with references; we register each
 *       event's complete schema under its topic's subject only.</li>
 * </ul>
 * Basic credentials and the trust store go to Apicurio's {@code apicurio.registry.auth.*} and
 * {@code apicurio.registry.tls.*} settings. Apicurio's serdes take no fixed bearer token (only an OAuth client
 * they fetch tokens with), so {@code registry.bearer.token} is refused with this API.
 */
public final class ApicurioRegistrySerdes implements RegistrySerdes {

    private final RegistryConfig config;
    private final Map<String, Object> overrides;

    /** @param config the registry; its URL is the core v3 API, e.g. {@code http://localhost:8080/apis/registry/v3} */
    public ApicurioRegistrySerdes(RegistryConfig config) {
        this(config, Map.of());
    }

    /**
     * @param overrides extra Apicurio serde settings applied over the defaults above
     */
    public ApicurioRegistrySerdes(RegistryConfig config, Map<String, ?> overrides) {
        this.config = Objects.requireNonNull(config, "config");
        if (config.bearerToken() != null) {
            throw new IllegalStateException("registry.bearer.token is not supported with registry.api="
                    + RegistryConfig.Api.APICURIO_V3.configName() + " (Apicurio's serdes fetch their own tokens): use "
                    + "registry.api=" + RegistryConfig.Api.CONFLUENT.configName() + " with the registry's /apis/ccompat/v7 "
                    + "URL, or basic credentials");
        }
        this.overrides = Map.copyOf(overrides);
    }

    @Override
    public RegistryConfig config() {
        return config;
    }

    /** Settings for Apicurio's {@link AvroKafkaSerializer} (for plain producers configured by properties). */
    public Map<String, Object> serializerConfig() {
        Map<String, Object> c = common();
        c.put(SchemaResolverConfig.AUTO_REGISTER_ARTIFACT, config.autoRegister());
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
        c.put(SchemaResolverConfig.REGISTRY_URL, config.url().toString());
        if (config.basicAuthUserInfo() != null) {
            String userInfo = config.basicAuthUserInfo();
            int colon = userInfo.indexOf(':');
            c.put(SchemaResolverConfig.AUTH_USERNAME, userInfo.substring(0, colon));
            c.put(SchemaResolverConfig.AUTH_PASSWORD, userInfo.substring(colon + 1));
        }
        if (config.trustStore() != null) {
            c.put(SchemaResolverConfig.TLS_TRUSTSTORE_LOCATION, config.trustStore().toString());
            c.put(SchemaResolverConfig.TLS_TRUSTSTORE_TYPE, config.trustStoreType());
            if (config.trustStorePassword() != null) {
                c.put(SchemaResolverConfig.TLS_TRUSTSTORE_PASSWORD, config.trustStorePassword());
            }
        }
        c.put(SchemaResolverConfig.ARTIFACT_RESOLVER_STRATEGY, TopicIdStrategy.class.getName());
        c.put(SchemaResolverConfig.DEREFERENCE_SCHEMA, true);
        c.put(SerdeConfig.ID_HANDLER, Default4ByteIdHandler.class.getName());
        c.put(SerdeConfig.USE_ID, IdOption.contentId.name());
        c.put(KafkaSerdeConfig.ENABLE_HEADERS, false);
        c.put(AvroSerdeConfig.AVRO_ENCODING, AvroSerdeConfig.AVRO_ENCODING_BINARY);
        return c;
    }

    @Override
    public <V extends SpecificRecord> Serializer<V> valueSerializer(Topic<?, V> topic) {
        AvroKafkaSerializer<V> serializer = new AvroKafkaSerializer<>();
        serializer.configure(serializerConfig(), false);
        return serializer;
    }

    @Override
    public <V extends SpecificRecord> Deserializer<V> valueDeserializer(Topic<?, V> topic) {
        AvroKafkaDeserializer<V> deserializer = new AvroKafkaDeserializer<>();
        deserializer.configure(deserializerConfig(), false);
        return new CheckedDeserializer<>(deserializer, topic.valueType());
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
                if (unreachable(t)) {
                    // Before the IOException branch below: a refused connection is no fault of the Avro body.
                    return new RegistryUnavailableException("schema id " + id + " could not be fetched: the registry "
                            + "did not answer (" + t.getClass().getSimpleName() + ")", e);
                }
                if (t instanceof ProblemDetails p && p.getStatus() != null && p.getStatus() >= 500) {
                    return new RegistryUnavailableException("schema id " + id + " could not be fetched: HTTP "
                            + p.getStatus() + " " + p.getTitle(), e);
                }
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

        /** A connection that failed or timed out: the registry is down or out of reach, the record may be fine. */
        private static boolean unreachable(Throwable t) {
            return t instanceof java.net.ConnectException || t instanceof java.net.http.HttpTimeoutException
                    || t instanceof java.net.UnknownHostException || t instanceof java.net.NoRouteToHostException
                    || t instanceof java.nio.channels.ClosedChannelException
                    || (t instanceof java.net.SocketException && !(t instanceof java.net.SocketTimeoutException));
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
