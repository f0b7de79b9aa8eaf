package dev.loku.runtime.kafka;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code poll} for consumers with typed deserializers that survives undecodable records. A plain {@code poll} throws
 * {@link RecordDeserializationException} at a bad record and, if the caller does nothing, throws again on every
 * later call: the consumer is stuck. Here the record is reported (logged as one data-free line and handed to
 * {@code onUndecodable}, e.g. to dead-letter it), the consumer seeks past it, and polling carries on within the
 * same timeout. Records before the bad one are not lost: the consumer hands them out before it throws.
 */
public final class SkippingPoller {

    private static final Logger LOG = LoggerFactory.getLogger(SkippingPoller.class);

    private SkippingPoller() {
    }

    /**
     * Polls like {@code consumer.poll(timeout)}, skipping undecodable records after reporting each to
     * {@code onUndecodable}. Returns the decodable records, possibly none.
     */
    public static <K, V> ConsumerRecords<K, V> poll(org.apache.kafka.clients.consumer.Consumer<K, V> consumer,
                                                    Duration timeout, Consumer<UndecodableRecord> onUndecodable) {
        Objects.requireNonNull(onUndecodable, "onUndecodable");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
            try {
                return consumer.poll(left);
            } catch (RecordDeserializationException e) {
                UndecodableRecord bad = UndecodableRecord.of(e);
                LOG.warn("{}; skipped", bad.describe());
                consumer.seek(e.topicPartition(), e.offset() + 1);
                onUndecodable.accept(bad);
                if (left.isZero()) {
                    return ConsumerRecords.empty();
                }
            }
        }
    }
}
