package dev.loku.runtime.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.DeadLetter;
import dev.loku.events.ErasureRequest;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.runtime.testing.TestClients;
import dev.loku.runtime.testing.TestTopics;
import dev.loku.runtime.testing.WithLokuStack;
import dev.loku.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Undecodable records on a real topic (real broker, real registry): each consumer-side path reports the bad ones by
 * topic, partition, offset and reason, lets no exception escape, and carries on with the next record.
 *
 * <p>The topic holds, in partition 0: a good request (offset 0), random bytes (1), random bytes that happen to start
 * with the magic byte and so name a schema id the registry does not have (2), a correctly framed value whose Avro
 * body is cut short (3), and another good request (4).
 */
@WithLokuStack
class MalformedRecordIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static String topic;
    private static ErasureRequest first;
    private static ErasureRequest last;
    private static byte[][] badValues;

    @BeforeAll
    static void writeGoodAndBadRecords(StackEndpoints stack, RegistrySerdes serdes) throws Exception {
        topic = TestTopics.create(stack, "it.malformed", 1);
        first = SampleEvents.erasureRequest("model-a");
        last = SampleEvents.erasureRequest("model-a");

        byte[] goodBytes = serdes.valueSerializer(Topics.ERASURE_REQUESTS).serialize(topic, first);
        Random random = new Random(20261123);
        byte[] noise = new byte[64];
        random.nextBytes(noise);
        noise[0] = 0x7b; // not the magic byte, whatever the seed gives
        byte[] framedNoise = new byte[64];
        random.nextBytes(framedNoise);
        framedNoise[0] = 0;
        framedNoise[1] = 0x7f; // schema id 0x7fxxxxxx: far beyond any id this registry has handed out
        byte[] truncated = Arrays.copyOf(goodBytes, 12);
        badValues = new byte[][] {noise, framedNoise, truncated};

        try (KafkaProducer<String, ErasureRequest> typed = TestClients.producer(stack,
                Topics.ERASURE_REQUESTS.keySerde().serializer(), serdes.valueSerializer(Topics.ERASURE_REQUESTS));
             KafkaProducer<byte[], byte[]> raw = TestClients.rawProducer(stack)) {
            typed.send(new ProducerRecord<>(topic, 0, first.getRequestId().toString(), first)).get(30, TimeUnit.SECONDS);
            for (byte[] bad : badValues) {
                raw.send(new ProducerRecord<>(topic, 0, "bad".getBytes(StandardCharsets.UTF_8), bad)).get(30, TimeUnit.SECONDS);
            }
            typed.send(new ProducerRecord<>(topic, 0, last.getRequestId().toString(), last)).get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void decoderReturnsEachBadRecordAsAReportAndDecodesTheRest(StackEndpoints stack, RegistrySerdes serdes) {
        List<ConsumerRecord<byte[], byte[]>> raw;
        try (KafkaConsumer<byte[], byte[]> consumer = TestClients.rawConsumer(stack)) {
            raw = TestClients.read(consumer, topic, 0, 0, 5, r -> true, TIMEOUT);
        }
        assertEquals(5, raw.size());

        List<DecodeResult<String, ErasureRequest>> results = new ArrayList<>();
        try (RecordDecoder<String, ErasureRequest> decoder = RecordDecoder.forTopic(Topics.ERASURE_REQUESTS, serdes)) {
            raw.forEach(r -> results.add(decoder.decode(r)));
        }

        assertEquals(first, results.get(0).decoded().orElseThrow().value());
        assertEquals(last, results.get(4).decoded().orElseThrow().value());
        for (int offset = 1; offset <= 3; offset++) {
            UndecodableRecord bad = results.get(offset).undecodable().orElseThrow();
            String line = bad.describe();
            assertTrue(line.contains("topic=" + topic + " partition=0 offset=" + offset), line);
            assertEquals(UndecodableRecord.Part.VALUE, bad.part());
            assertFalse(bad.reason().isBlank(), line);
            assertArrayEquals(badValues[offset - 1], bad.value(), "original bytes are kept for the dead letter");
        }
        UndecodableRecord noise = results.get(1).undecodable().orElseThrow();
        assertEquals("value is not in the Confluent wire format: first byte 0x7b, expected 0x00", noise.reason());
        assertUnknownSchemaId(results.get(2).undecodable().orElseThrow());
        assertCutBody(results.get(3).undecodable().orElseThrow());
        DeadLetter letter = noise.toDeadLetter("ingest-service", java.time.Instant.EPOCH);
        assertEquals(topic, letter.getSourceTopic());
        assertEquals(1L, letter.getOffset());
        assertArrayEquals(badValues[0], bytes(letter.getOriginalValue()));
    }

    @Test
    void typedConsumerSkipsBadRecordsAndReportsThem(StackEndpoints stack, RegistrySerdes serdes) {
        List<ErasureRequest> good = new ArrayList<>();
        List<UndecodableRecord> reported = new ArrayList<>();
        try (KafkaConsumer<String, ErasureRequest> consumer = TestClients.consumer(stack,
                new StringDeserializer(), serdes.valueDeserializer(Topics.ERASURE_REQUESTS))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seek(tp, 0);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (good.size() < 2 && System.nanoTime() < deadline) {
                SkippingPoller.poll(consumer, Duration.ofMillis(500), reported::add).forEach(r -> good.add(r.value()));
            }
        }
        assertEquals(List.of(first, last), good);
        assertEquals(List.of(1L, 2L, 3L), reported.stream().map(UndecodableRecord::offset).toList());
        reported.forEach(r -> assertEquals(topic, r.topic()));
        assertEquals("value is not in the Confluent wire format: first byte 0x7b, expected 0x00", reported.get(0).reason());
        assertUnknownSchemaId(reported.get(1));
        assertCutBody(reported.get(2));
        assertArrayEquals(badValues[2], reported.get(2).value());
    }

    @Test
    void streamsAppDeadLettersBadRecordsAndProcessesTheRest(StackEndpoints stack, RegistrySerdes serdes,
                                                            @TempDir Path stateDir) throws Exception {
        String out = TestTopics.create(stack, "it.malformed-out", 1);
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(topic, serdes.consumed(Topics.ERASURE_REQUESTS))
                .mapValues(r -> r.getRequestId().toString())
                .to(out, Produced.with(Serdes.String(), Serdes.String()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "it-malformed-" + System.nanoTime());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createDirectories(stateDir.resolve("streams")).toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        props.putAll(DeadLetterDeserializationHandler.streamsConfig(serdes));

        List<ConsumerRecord<String, String>> processed;
        List<ConsumerRecord<byte[], DeadLetter>> letters;
        try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
            streams.start();
            try (KafkaConsumer<String, String> consumer = TestClients.consumer(stack, new StringDeserializer(),
                    new StringDeserializer())) {
                processed = TestClients.read(consumer, out, 0, 0, 2, r -> true, Duration.ofSeconds(60));
            }
            try (KafkaConsumer<byte[], DeadLetter> consumer = TestClients.consumer(stack,
                    Topics.DEAD_LETTERS.keySerde().deserializer(), serdes.valueDeserializer(Topics.DEAD_LETTERS))) {
                letters = TestClients.readAll(consumer, Topics.DEAD_LETTERS.name(), 3,
                        r -> r.value().getSourceTopic().equals(topic), Duration.ofSeconds(30));
            }
            assertEquals(KafkaStreams.State.RUNNING, streams.state(), "a bad record must not stop the app");
            streams.close(Duration.ofSeconds(10));
        }
        assertEquals(List.of(first.getRequestId().toString(), last.getRequestId().toString()),
                processed.stream().map(ConsumerRecord::value).toList());
        Map<Long, DeadLetter> byOffset = new HashMap<>();
        letters.forEach(r -> byOffset.put(r.value().getOffset(), r.value()));
        assertEquals(java.util.Set.of(1L, 2L, 3L), byOffset.keySet());
        for (long offset = 1; offset <= 3; offset++) {
            DeadLetter letter = byOffset.get(offset);
            assertEquals(0, letter.getPartition());
            assertArrayEquals(badValues[(int) offset - 1], bytes(letter.getOriginalValue()));
            assertArrayEquals("bad".getBytes(StandardCharsets.UTF_8), bytes(letter.getOriginalKey()));
            assertFalse(letter.getReason().isBlank());
            assertTrue(letter.getService().startsWith("it-malformed-"), letter.getService());
        }
        letters.forEach(r -> assertArrayEquals("bad".getBytes(StandardCharsets.UTF_8), r.key(),
                "dead letters are keyed by the original key bytes"));
    }

    private static void assertUnknownSchemaId(UndecodableRecord bad) {
        int id = ByteBuffer.wrap(badValues[1], 1, 4).getInt();
        assertTrue(bad.reason().startsWith("schema id " + id + " in the value's header could not be fetched from the "
                + "registry: HTTP 404"), bad.reason());
    }

    private static void assertCutBody(UndecodableRecord bad) {
        assertTrue(bad.reason().startsWith("the Avro body (7 bytes) does not decode with schema id "), bad.reason());
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
