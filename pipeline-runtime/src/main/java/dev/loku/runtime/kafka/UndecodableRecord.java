package dev.loku.runtime.kafka;

import dev.loku.events.DeadLetter;
import dev.loku.events.DeadLetterCause;
import dev.loku.runtime.serde.ConfluentWireFormat;
import dev.loku.runtime.serde.UndecodableValueException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.RecordDeserializationException;

/**
 * A record that could not be decoded, with where it sits and why, and its original bytes so it can be dead-lettered
 * without loss. {@link #describe()} is the one-line report for logs: it names topic, partition, offset and the reason
 * and never includes the bytes, which may be an erasure request's personal data.
 *
 * @param part      which part failed to decode
 * @param timestamp the record's timestamp in epoch millis, or -1 when unknown
 * @param key       the original key bytes (may be null)
 * @param value     the original value bytes (may be null)
 * @param reason    what was wrong, quoting no data
 * @param errorClass the exception that rejected it
 */
public record UndecodableRecord(String topic, int partition, long offset, Part part, long timestamp, byte[] key,
                                byte[] value, String reason, String errorClass) {

    /** Which part of the record could not be decoded. */
    public enum Part {
        KEY, VALUE,
        /** The framework did not say whether key or value failed (Kafka Streams). */
        KEY_OR_VALUE
    }

    private static final int MAX_REASON = 300;

    public UndecodableRecord {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(part, "part");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(errorClass, "errorClass");
    }

    /** A raw record that {@code error} refused while decoding {@code part}. */
    public static UndecodableRecord of(ConsumerRecord<byte[], byte[]> raw, Part part, Throwable error) {
        return new UndecodableRecord(raw.topic(), raw.partition(), raw.offset(), part, raw.timestamp(), raw.key(),
                raw.value(), reasonFor(error, part != Part.KEY, raw.value()), error.getClass().getName());
    }

    /** What a typed consumer's {@code poll} threw for a record it could not deserialize. */
    public static UndecodableRecord of(RecordDeserializationException e) {
        Part part = e.origin() == RecordDeserializationException.DeserializationExceptionOrigin.KEY ? Part.KEY : Part.VALUE;
        byte[] value = bytes(e.valueBuffer());
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return new UndecodableRecord(e.topicPartition().topic(), e.topicPartition().partition(), e.offset(), part,
                e.timestamp(), bytes(e.keyBuffer()), value, reasonFor(cause, part == Part.VALUE, value),
                cause.getClass().getName());
    }

    /**
     * Why decoding failed, quoting no data: for values not in the wire format the header problem (first byte,
     * length), otherwise the deepest cause's message (Avro and the registry client name lengths, ids and types,
     * not content), on one line and capped.
     */
    static String reasonFor(Throwable error, boolean valuePart, byte[] value) {
        if (valuePart) {
            var header = ConfluentWireFormat.headerProblem(value);
            if (header.isPresent()) {
                return header.get();
            }
        }
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UndecodableValueException) {
                return cap(t.getMessage()); // already says what was wrong, in data-free words
            }
        }
        String message = null;
        String type = error == null ? "unknown error" : error.getClass().getSimpleName();
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
                type = t.getClass().getSimpleName();
            }
        }
        return cap(message == null ? type : type + ": " + message);
    }

    private static String cap(String reason) {
        String oneLine = reason.replaceAll("\\s+", " ").trim();
        return oneLine.length() > MAX_REASON ? oneLine.substring(0, MAX_REASON) + "..." : oneLine;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** Where the record is, in Kafka's topic-partition@offset notation. */
    public String location() {
        return topic + "-" + partition + "@" + offset;
    }

    /** The one-line, data-free report: topic, partition, offset, part, reason. */
    public String describe() {
        return "undecodable record topic=" + topic + " partition=" + partition + " offset=" + offset + " part=" + part
                + " error=" + errorClass.substring(errorClass.lastIndexOf('.') + 1) + " reason=\"" + reason + "\"";
    }

    /** The dead letter for this record, keeping its original bytes. */
    public DeadLetter toDeadLetter(String service, Instant at) {
        return DeadLetter.newBuilder()
                .setSourceTopic(topic)
                .setPartition(partition)
                .setOffset(offset)
                .setOriginalKey(key == null ? null : ByteBuffer.wrap(key.clone()))
                .setOriginalValue(value == null ? null : ByteBuffer.wrap(value.clone()))
                .setOriginalTimestamp(timestamp < 0 ? null : Instant.ofEpochMilli(timestamp))
                .setReason(part == Part.VALUE ? reason : part.name().toLowerCase() + ": " + reason)
                .setErrorClass(errorClass)
                .setService(service)
                .setCause(DeadLetterCause.UNDECODABLE)
                .setAt(at)
                .build();
    }

    // Arrays need content equality; toString must not print the bytes.
    @Override
    public boolean equals(Object o) {
        return o instanceof UndecodableRecord u && topic.equals(u.topic) && partition == u.partition
                && offset == u.offset && part == u.part && timestamp == u.timestamp && Arrays.equals(key, u.key)
                && Arrays.equals(value, u.value) && reason.equals(u.reason) && errorClass.equals(u.errorClass);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, partition, offset, part, reason);
    }

    @Override
    public String toString() {
        return describe();
    }
}
