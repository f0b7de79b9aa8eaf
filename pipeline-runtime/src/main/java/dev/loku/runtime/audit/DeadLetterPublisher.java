package dev.loku.runtime.audit;

import dev.loku.events.DeadLetter;
import dev.loku.events.DeadLetterCause;
import dev.loku.runtime.kafka.DeadLetters;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.runtime.kafka.UndecodableRecord;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dead letters for plain consumers (Kafka Streams apps use
 * {@link dev.loku.runtime.kafka.DeadLetterDeserializationHandler}, which builds the same {@link DeadLetter} from
 * the same {@link UndecodableRecord}). Two cases:
 * <ul>
 *   <li>{@link #undecodable}: the bytes could not be decoded;</li>
 *   <li>{@link #unprocessable}: they decoded, but the service gave up on the record (a job that failed for good);
 *       the reason is an {@link AuditReason}, so it quotes no data.</li>
 * </ul>
 * Both keep the original key and value bytes (nothing is lost), log one data-free line, and count
 * {@code loku_dead_letters_total}. The records go out with the caller's producer, so within its transaction.
 */
public final class DeadLetterPublisher implements DeadLetters {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterPublisher.class);

    private final String service;
    private final Clock clock;
    private final ServiceMetrics metrics;

    /** @param metrics may be null */
    public DeadLetterPublisher(String service, Clock clock, ServiceMetrics metrics) {
        this.service = Objects.requireNonNull(service, "service");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.metrics = metrics;
    }

    /** The dead letter of a record that could not be decoded, keyed by its original key bytes. */
    @Override
    public TopicRecord<byte[], DeadLetter> undecodable(UndecodableRecord record) {
        LOG.warn("{}; dead-lettered to {}", record.describe(), Topics.DEAD_LETTERS.name());
        count();
        return TopicRecord.of(Topics.DEAD_LETTERS, record.key(), record.toDeadLetter(service, clock.instant()));
    }

    /** The dead letter of a decoded record the service gave up on. */
    public TopicRecord<byte[], DeadLetter> unprocessable(ConsumerRecord<byte[], byte[]> raw, AuditReason reason,
                                                         Throwable error) {
        LOG.warn("event=dead_lettered topic={} partition={} offset={} reason=\"{}\"", raw.topic(), raw.partition(),
                raw.offset(), reason.text());
        count();
        DeadLetter letter = DeadLetter.newBuilder()
                .setSourceTopic(raw.topic())
                .setPartition(raw.partition())
                .setOffset(raw.offset())
                .setOriginalKey(raw.key() == null ? null : ByteBuffer.wrap(raw.key().clone()))
                .setOriginalValue(raw.value() == null ? null : ByteBuffer.wrap(raw.value().clone()))
                .setOriginalTimestamp(raw.timestamp() < 0 ? null : Instant.ofEpochMilli(raw.timestamp()))
                .setReason(reason.text())
                .setErrorClass(error == null ? "none" : error.getClass().getName())
                .setService(service)
                .setCause(DeadLetterCause.UNPROCESSABLE)
                .setAt(clock.instant())
                .build();
        return TopicRecord.of(Topics.DEAD_LETTERS, raw.key(), letter);
    }

    /** The dead letter of a record whose job failed: {@link #unprocessable} with {@link AuditReason#failure}. */
    @Override
    public TopicRecord<byte[], DeadLetter> failed(ConsumerRecord<byte[], byte[]> raw, Throwable error) {
        return unprocessable(raw, AuditReason.failure(error), error);
    }

    /** Sends a dead letter with a producer of the dead-letter topic's types. */
    public static void send(Producer<byte[], DeadLetter> producer, TopicRecord<byte[], DeadLetter> letter) {
        producer.send(new ProducerRecord<>(letter.topicName(), letter.key(), letter.value()));
    }

    private void count() {
        if (metrics != null) {
            metrics.deadLetter();
        }
    }
}
