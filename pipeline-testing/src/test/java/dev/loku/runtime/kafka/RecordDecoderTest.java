package dev.loku.runtime.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.DeadLetter;
import dev.loku.events.ErasureRequest;
import dev.loku.runtime.testing.PlainAvroSerdes;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.Test;

/** The decoder's contract, without a broker: decoded or reported, never thrown, never leaking content. */
class RecordDecoderTest {

    private final PlainAvroSerdes plain = new PlainAvroSerdes();
    private final ErasureRequest request = SampleEvents.erasureRequest("m");

    private static ConsumerRecord<byte[], byte[]> raw(long offset, byte[] key, byte[] value) {
        return new ConsumerRecord<>("loku.erasure-requests", 4, offset, 1_700_000_000_000L, TimestampType.CREATE_TIME,
                key == null ? -1 : key.length, value == null ? -1 : value.length, key, value, new RecordHeaders(),
                Optional.empty());
    }

    private byte[] encoded() {
        return Topics.ERASURE_REQUESTS.valueSerde(plain).serializer().serialize("t", request);
    }

    @Test
    void decodesAGoodRecordKeepingItsCoordinates() {
        try (RecordDecoder<String, ErasureRequest> decoder = RecordDecoder.forTopic(Topics.ERASURE_REQUESTS, plain)) {
            DecodeResult<String, ErasureRequest> r = decoder.decode(raw(7, "k".getBytes(StandardCharsets.UTF_8), encoded()));
            ConsumerRecord<String, ErasureRequest> rec = r.decoded().orElseThrow();
            assertTrue(r.undecodable().isEmpty());
            assertEquals("k", rec.key());
            assertEquals(request, rec.value());
            assertEquals(4, rec.partition());
            assertEquals(7, rec.offset());
            assertEquals(1_700_000_000_000L, rec.timestamp());
        }
    }

    @Test
    void reportsGarbageWithTopicPartitionOffsetAndReasonButNotTheContent() {
        byte[] garbage = encoded();
        garbage = java.util.Arrays.copyOf(garbage, garbage.length / 3); // cut inside the texts
        try (RecordDecoder<String, ErasureRequest> decoder = RecordDecoder.forTopic(Topics.ERASURE_REQUESTS, plain)) {
            DecodeResult<String, ErasureRequest> r = decoder.decode(raw(9, "k".getBytes(StandardCharsets.UTF_8), garbage));
            assertTrue(r.decoded().isEmpty());
            UndecodableRecord bad = r.undecodable().orElseThrow();
            assertEquals(UndecodableRecord.Part.VALUE, bad.part());
            String line = bad.describe();
            assertTrue(line.startsWith("undecodable record topic=loku.erasure-requests partition=4 offset=9 part=VALUE"), line);
            assertFalse(bad.reason().isBlank());
            assertFalse(line.contains("Testperson") || line.contains("Example Road"), "content leaked: " + line);
            assertEquals(line, bad.toString(), "toString must not print the bytes either");
            assertArrayEquals(garbage, bad.value());
        }
    }

    @Test
    void reportsATombstoneAndAKeyThatCannotBeDecoded() {
        Deserializer<String> failingKeys = (topic, data) -> {
            throw new SerializationException("key is not UTF-8");
        };
        try (RecordDecoder<String, ErasureRequest> decoder = new RecordDecoder<>(failingKeys,
                Topics.ERASURE_REQUESTS.valueSerde(plain).deserializer())) {
            UndecodableRecord key = decoder.decode(raw(1, new byte[] {(byte) 0xff}, encoded())).undecodable().orElseThrow();
            assertEquals(UndecodableRecord.Part.KEY, key.part());
            assertEquals("SerializationException: key is not UTF-8", key.reason());
        }
        try (RecordDecoder<String, ErasureRequest> decoder = RecordDecoder.forTopic(Topics.ERASURE_REQUESTS, plain)) {
            UndecodableRecord tombstone = decoder.decode(raw(2, "k".getBytes(StandardCharsets.UTF_8), null))
                    .undecodable().orElseThrow();
            assertEquals("value is null (a tombstone), but this topic carries events", tombstone.reason());
        }
    }

    @Test
    void deadLetterKeepsTheOriginalBytesAndWhereTheyCameFrom() {
        byte[] value = {0x7b, 1, 2, 3, 4, 5};
        UndecodableRecord bad = UndecodableRecord.of(raw(3, "key".getBytes(StandardCharsets.UTF_8), value),
                UndecodableRecord.Part.VALUE, new SerializationException("nope"));
        DeadLetter letter = bad.toDeadLetter("ingest-service", Instant.ofEpochMilli(42));
        assertEquals("loku.erasure-requests", letter.getSourceTopic());
        assertEquals(4, letter.getPartition());
        assertEquals(3L, letter.getOffset());
        assertArrayEquals(value, bytes(letter.getOriginalValue()));
        assertArrayEquals("key".getBytes(StandardCharsets.UTF_8), bytes(letter.getOriginalKey()));
        assertEquals(Instant.ofEpochMilli(1_700_000_000_000L), letter.getOriginalTimestamp());
        assertEquals("value is not in the Confluent wire format: first byte 0x7b, expected 0x00", letter.getReason());
        assertEquals(SerializationException.class.getName(), letter.getErrorClass());
        assertEquals("ingest-service", letter.getService());
    }

    @Test
    void fromATypedConsumersDeserializationException() {
        RecordDeserializationException e = new RecordDeserializationException(
                RecordDeserializationException.DeserializationExceptionOrigin.VALUE,
                new TopicPartition("loku.audit", 2), 11, -1, TimestampType.NO_TIMESTAMP_TYPE, null,
                ByteBuffer.wrap(new byte[] {0, 0, 0, 0}), new RecordHeaders(), "Error deserializing VALUE",
                new SerializationException("boom"));
        UndecodableRecord bad = UndecodableRecord.of(e);
        assertEquals("loku.audit-2@11", bad.location());
        assertNull(bad.key());
        assertEquals("value is 4 bytes, shorter than the 5-byte Confluent wire-format header", bad.reason());
        assertNull(bad.toDeadLetter("s", Instant.EPOCH).getOriginalTimestamp());
    }

    @Test
    void reasonUsesTheDeepestMessageOnOneLineAndIsCapped() {
        Exception nested = new SerializationException("outer", new IllegalArgumentException("inner\n  detail"));
        assertEquals("IllegalArgumentException: inner detail", UndecodableRecord.reasonFor(nested, false, null));
        String longReason = UndecodableRecord.reasonFor(new RuntimeException("x".repeat(1000)), false, null);
        assertTrue(longReason.length() <= 310, longReason);
        // a value with a sound header: the reason comes from the exception
        assertEquals("RuntimeException: body cut short",
                UndecodableRecord.reasonFor(new RuntimeException("body cut short"), true, new byte[] {0, 0, 0, 0, 1, 9}));
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
