package dev.loku.runtime.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.ErasureRequest;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.serde.SchemaRegistryClient;
import dev.loku.runtime.serde.ConfluentWireFormat;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The end-to-end check of the messaging foundation, run against any broker + registry (the embedded stack here,
 * containers where Docker exists): an ErasureRequest goes through the real serializer, broker and registry and comes
 * back equal; its bytes are in the Confluent wire format; the schema id in them resolves, through the registry's
 * Confluent-compatible API, to the very schema of the event, registered self-contained under the topic's subject.
 */
public final class RoundTripCheck {

    /** What the check saw, for further assertions. */
    public record Result(ErasureRequest sent, ConsumerRecord<String, ErasureRequest> received, byte[] rawValue,
                         int schemaId) {
    }

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private RoundTripCheck() {
    }

    public static Result run(StackEndpoints stack) throws Exception {
        RegistrySerdes serdes = stack.serdes();
        ErasureRequest sent = SampleEvents.erasureRequest("stories260k");
        String key = sent.getRequestId().toString();

        RecordMetadata where;
        try (KafkaProducer<String, ErasureRequest> producer = TestClients.producer(stack,
                Topics.ERASURE_REQUESTS.keySerde().serializer(), serdes.valueSerializer(Topics.ERASURE_REQUESTS))) {
            where = producer.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), key, sent)).get(30, TimeUnit.SECONDS);
        }

        // 1. Typed consumer: the same event comes back.
        List<ConsumerRecord<String, ErasureRequest>> typed;
        try (KafkaConsumer<String, ErasureRequest> consumer = TestClients.consumer(stack,
                Topics.ERASURE_REQUESTS.keySerde().deserializer(), serdes.valueDeserializer(Topics.ERASURE_REQUESTS))) {
            typed = TestClients.read(consumer, where.topic(), where.partition(), where.offset(), 1, r -> true, READ_TIMEOUT);
        }
        assertEquals(1, typed.size(), "the record produced at " + where + " was not read back");
        assertEquals(key, typed.get(0).key());
        assertEquals(sent, typed.get(0).value());

        // 2. Raw bytes: Confluent wire format, magic byte 0 then a 4-byte schema id.
        List<ConsumerRecord<byte[], byte[]>> raw;
        try (KafkaConsumer<byte[], byte[]> consumer = TestClients.rawConsumer(stack)) {
            raw = TestClients.read(consumer, where.topic(), where.partition(), where.offset(), 1, r -> true, READ_TIMEOUT);
        }
        byte[] value = raw.get(0).value();
        assertEquals(ConfluentWireFormat.MAGIC_BYTE, value[0], "magic byte");
        int schemaId = ByteBuffer.wrap(value, 1, 4).getInt();
        assertEquals(schemaId, ConfluentWireFormat.schemaId(value).orElseThrow());
        assertArrayEquals(key.getBytes(java.nio.charset.StandardCharsets.UTF_8), raw.get(0).key(), "key is the request id, UTF-8");

        // 3. The id resolves through the Confluent-compatible API to the same, self-contained schema.
        SchemaRegistryClient ccompat = stack.registryClient();
        SchemaRegistryClient.RegisteredSchema byId = ccompat.schemaById(schemaId);
        Schema registered = new Schema.Parser().parse(byId.schema());
        assertEquals(ErasureRequest.getClassSchema(), registered, "schema behind id " + schemaId);
        assertEquals(List.of(), byId.references(), "registered self-contained (nested types inlined, no references)");

        // 4. Subject naming: Confluent TopicNameStrategy, and no subjects for nested types.
        List<String> subjects = ccompat.subjects();
        assertTrue(subjects.contains("loku.erasure-requests-value"), "subjects: " + subjects);
        assertTrue(subjects.stream().noneMatch(s -> s.contains("QaPair") || s.contains("ErasureReason")),
                "nested types must not be separate subjects: " + subjects);
        assertEquals(schemaId, ccompat.latest("loku.erasure-requests-value").id());
        return new Result(sent, typed.get(0), value, schemaId);
    }
}
