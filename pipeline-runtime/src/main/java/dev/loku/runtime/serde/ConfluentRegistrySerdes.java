package dev.loku.runtime.serde;

import dev.loku.runtime.config.RegistryConfig;
import dev.loku.runtime.serde.SchemaRegistryClient.RegistryException;
import dev.loku.schemas.Topic;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * {@link RegistrySerdes} over the Confluent Schema Registry REST protocol ({@link SchemaRegistryClient}): the
 * serializer registers (or, without auto-register, looks up) the event's schema under {@code <topic>-value} once
 * per schema and writes magic byte 0, the id and the Avro binary body; the deserializer fetches the writer's schema
 * by the id in the header (cached) and resolves it against the generated class's. No Confluent or Apicurio class
 * is involved, so this is what any Confluent-protocol client sees on our topics.
 */
public final class ConfluentRegistrySerdes implements RegistrySerdes {

    private final SchemaRegistryClient client;
    /** Schema id by subject and writer schema: registering is one call per schema and topic for the client's life. */
    private final Map<SubjectSchema, Integer> ids = new ConcurrentHashMap<>();
    /** Parsed writer schemas by id. */
    private final Map<Integer, Schema> writers = new ConcurrentHashMap<>();

    private record SubjectSchema(String subject, Schema schema) {
    }

    public ConfluentRegistrySerdes(RegistryConfig config) {
        this(new SchemaRegistryClient(config));
    }

    public ConfluentRegistrySerdes(SchemaRegistryClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    @Override
    public RegistryConfig config() {
        return client.config();
    }

    /** The REST client underneath (one per serdes, shared by every serializer and deserializer it makes). */
    public SchemaRegistryClient client() {
        return client;
    }

    /** Confluent's TopicNameStrategy for values. */
    static String subject(String topic) {
        return topic + "-value";
    }

    @Override
    public <V extends SpecificRecord> Serializer<V> valueSerializer(Topic<?, V> topic) {
        return (kafkaTopic, value) -> value == null ? null : serialize(kafkaTopic, value);
    }

    @Override
    public <V extends SpecificRecord> Deserializer<V> valueDeserializer(Topic<?, V> topic) {
        Class<V> type = topic.valueType();
        Schema reader = SpecificData.getForClass(type).getSchema(type);
        return (kafkaTopic, data) -> data == null ? null : deserialize(kafkaTopic, data, type, reader);
    }

    private byte[] serialize(String topic, SpecificRecord value) {
        Schema schema = value.getSchema();
        String subject = subject(topic);
        int id;
        try {
            id = ids.computeIfAbsent(new SubjectSchema(subject, schema), k -> config().autoRegister()
                    ? client.register(subject, schema.toString())
                    : client.lookup(subject, schema.toString()).id());
        } catch (RegistryException e) {
            String why = e.kind() == RegistryException.Kind.NOT_FOUND && !config().autoRegister()
                    ? " is not registered under subject " + subject + " and registry.auto.register is false"
                    : " could not be registered under subject " + subject;
            String message = "the schema of " + schema.getFullName() + why + ": " + e.getMessage();
            if (e.kind() == RegistryException.Kind.UNREACHABLE
                    || (e.kind() == RegistryException.Kind.FAILED && (e.status() == 0 || e.status() >= 500))) {
                // The registry is down, not the schema wrong: a caller may wait and try again.
                throw new RegistryUnavailableException(message, e);
            }
            throw new SerializationException(message, e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(ConfluentWireFormat.MAGIC_BYTE);
        out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
        try {
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            new SpecificDatumWriter<SpecificRecord>(schema, SpecificData.getForSchema(schema)).write(value, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            // Avro's messages can quote a field's value: name the type and the failure's kind only.
            throw new SerializationException("cannot write a " + schema.getName() + " as Avro ("
                    + e.getClass().getSimpleName() + "): a field is missing or of the wrong type");
        }
        return out.toByteArray();
    }

    private <V> V deserialize(String topic, byte[] data, Class<V> type, Schema reader) {
        var header = ConfluentWireFormat.headerProblem(data);
        if (header.isPresent()) {
            throw new UndecodableValueException(header.get(), null);
        }
        int id = ConfluentWireFormat.schemaId(data).orElseThrow();
        Schema writer = writerSchema(id, topic);
        if (!writer.getFullName().equals(reader.getFullName())) {
            throw new SerializationException("topic " + topic + " carries " + type.getSimpleName()
                    + " but the record holds a " + writer.getName() + " (schema id " + id + ")");
        }
        int bodyLength = data.length - ConfluentWireFormat.HEADER_SIZE;
        try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, ConfluentWireFormat.HEADER_SIZE,
                    bodyLength, null);
            V value = new SpecificDatumReader<V>(writer, reader, SpecificData.getForClass(type)).read(null, decoder);
            if (!decoder.isEnd()) {
                throw new UndecodableValueException("the Avro body (" + bodyLength + " bytes) has bytes left over "
                        + "after a " + writer.getName() + " with schema id " + id, null);
            }
            return value;
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException e) {
            throw new UndecodableValueException("the Avro body (" + bodyLength + " bytes) does not decode with schema id "
                    + id + ": " + e.getClass().getSimpleName(), e);
        }
    }

    private Schema writerSchema(int id, String topic) {
        Schema cached = writers.get(id);
        if (cached != null) {
            return cached;
        }
        SchemaRegistryClient.RegisteredSchema registered;
        try {
            registered = client.schemaById(id);
        } catch (RegistryException e) {
            if (e.kind() == RegistryException.Kind.NOT_FOUND) {
                if (subjectMissing(topic, id)) {
                    // Not one schema of the topic is known: the registry lost its state (restarted without its
                    // storage), the record is most likely fine. Wait for the schemas to be restored rather than
                    // dead-letter every record of the topic.
                    throw new RegistryUnavailableException("schema id " + id + " is unknown to the registry, and so is "
                            + "subject " + subject(topic) + ": the registry has lost its schemas (restarted without its "
                            + "storage?); waiting until they are restored", e);
                }
                throw new UndecodableValueException("schema id " + id + " in the value's header could not be fetched "
                        + "from the registry: HTTP " + e.status() + (e.errorCode() == 0 ? "" : " error " + e.errorCode())
                        + " (no such schema id)", e);
            }
            // Not the record's fault: the registry is down or refuses us. Say so, and do not call the record bad.
            throw new RegistryUnavailableException("schema id " + id + " could not be fetched: " + e.getMessage(), e);
        }
        if (!"AVRO".equalsIgnoreCase(registered.schemaType())) {
            throw new UndecodableValueException("schema id " + id + " is a " + registered.schemaType()
                    + " schema, not Avro", null);
        }
        if (!registered.references().isEmpty()) {
            throw new UndecodableValueException("schema id " + id + " refers to other subjects "
                    + registered.references().stream().map(SchemaRegistryClient.Reference::subject).toList()
                    + "; these serdes read self-contained schemas only", null);
        }
        Schema parsed;
        try {
            parsed = new Schema.Parser().parse(registered.schema());
        } catch (SchemaParseException e) {
            throw new UndecodableValueException("schema id " + id + " is not a valid Avro schema: " + e.getMessage(), e);
        }
        writers.putIfAbsent(id, parsed);
        return parsed;
    }

    /**
     * Whether the registry knows no schema at all under {@code topic}'s subject, asked when it did not know the
     * record's schema id. A subject that exists means the id is the record's fault (undecodable); one that does not
     * means the registry lost its schemas, or the record is the first on its topic and bad (then the wait ends once a
     * producer registers the subject, and the record is dead-lettered). A registry that fails to answer is
     * unavailable.
     */
    private boolean subjectMissing(String topic, int id) {
        try {
            client.latest(subject(topic));
            return false;
        } catch (RegistryException e) {
            if (e.kind() == RegistryException.Kind.NOT_FOUND) {
                return true;
            }
            throw new RegistryUnavailableException("schema id " + id + " is unknown to the registry and subject "
                    + subject(topic) + " could not be looked up: " + e.getMessage(), e);
        }
    }
}
