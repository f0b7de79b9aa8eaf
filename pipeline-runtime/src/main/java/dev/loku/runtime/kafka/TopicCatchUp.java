package dev.loku.runtime.kafka;

import dev.loku.schemas.Topic;
import dev.loku.schemas.ValueSerdeFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every partition of a topic from the beginning, in calls that each catch up with what was committed before
 * the call: a view rebuilt from a topic (the eval service's verified jobs from {@code loku.verifications}, a
 * request's life from {@code loku.audit}). No consumer group: partitions are assigned and nothing is committed.
 * Records are read {@code read_committed}, so the end of a call is the last stable offset: records of a transaction
 * still open are not waited for. Undecodable records are skipped with a data-free log line; the topic's owner
 * dead-letters them.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class TopicCatchUp<K, V extends SpecificRecord> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TopicCatchUp.class);

    private final String topicName;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final RecordDecoder<K, V> decoder;
    private List<TopicPartition> partitions;

    /** @param kafka base client settings ({@code bootstrap.servers} and security settings) */
    public TopicCatchUp(Map<String, Object> kafka, Topic<K, V> topic, ValueSerdeFactory serdes) {
        this(kafka, topic, topic.name(), serdes);
    }

    /**
     * Reads {@code topicName}, a topic holding {@code topic}'s records under another name (a mirrored or restored
     * copy).
     */
    public TopicCatchUp(Map<String, Object> kafka, Topic<K, V> topic, String topicName, ValueSerdeFactory serdes) {
        this.topicName = topicName;
        Map<String, Object> c = new HashMap<>(kafka);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "loku-catch-up-" + topicName + "-" + UUID.randomUUID());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
        this.consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.decoder = RecordDecoder.forTopic(topic, serdes);
    }

    /**
     * Hands {@code sink} every record committed before this call and not handed over by an earlier call.
     *
     * @return the number of records handed over
     * @throws org.apache.kafka.common.errors.TimeoutException when the broker cannot be reached in {@code timeout}
     */
    public int catchUp(Consumer<ConsumerRecord<K, V>> sink, Duration timeout) {
        return catchUp(key -> true, sink, timeout);
    }

    /**
     * As {@link #catchUp(Consumer, Duration)}, decoding only records whose raw key bytes pass {@code keyFilter}
     * (reading one request's events from a long audit trail without decoding every event).
     */
    public int catchUp(Predicate<byte[]> keyFilter, Consumer<ConsumerRecord<K, V>> sink, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (partitions == null) {
            partitions = consumer.partitionsFor(topicName, timeout).stream()
                    .map(p -> new TopicPartition(topicName, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        int handed = 0;
        while (!caughtUp(end)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new org.apache.kafka.common.errors.TimeoutException("could not read " + topicName
                        + " up to its end within " + timeout.toMillis() + " ms");
            }
            for (ConsumerRecord<byte[], byte[]> raw : consumer.poll(Duration.ofMillis(Math.min(left / 1_000_000, 200)))) {
                if (raw.key() != null && !keyFilter.test(raw.key())) {
                    continue;
                }
                DecodeResult<K, V> r = decoder.decode(raw);
                if (r.decoded().isPresent()) {
                    sink.accept(r.decoded().get());
                    handed++;
                } else {
                    LOG.warn("event=catch_up_skipped {}", r.undecodable().orElseThrow().describe());
                }
            }
        }
        return handed;
    }

    private boolean caughtUp(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
        decoder.close();
    }
}
