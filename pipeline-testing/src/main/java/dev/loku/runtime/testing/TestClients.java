package dev.loku.runtime.testing;

import dev.loku.runtime.embedded.StackEndpoints;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/** Producers and consumers for tests: idempotent producers, and consumers that read partitions directly (no group). */
public final class TestClients {

    private TestClients() {
    }

    public static <K, V> KafkaProducer<K, V> producer(StackEndpoints stack, Serializer<K> keys, Serializer<V> values) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 0), keys, values);
    }

    public static KafkaProducer<byte[], byte[]> rawProducer(StackEndpoints stack) {
        return producer(stack, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** A consumer with no group: assign partitions and seek yourself. */
    public static <K, V> KafkaConsumer<K, V> consumer(StackEndpoints stack, Deserializer<K> keys, Deserializer<V> values) {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), keys, values);
    }

    public static KafkaConsumer<byte[], byte[]> rawConsumer(StackEndpoints stack) {
        return consumer(stack, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Reads every partition of {@code topic} from the beginning until {@code count} records matching {@code filter}
     * arrived or {@code timeout} passed; returns what arrived.
     */
    public static <K, V> List<ConsumerRecord<K, V>> readAll(KafkaConsumer<K, V> consumer, String topic, int count,
                                                            Predicate<ConsumerRecord<K, V>> filter, Duration timeout) {
        List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return drain(consumer, count, filter, timeout);
    }

    /**
     * Every record of every partition of {@code topic}, from the beginning to the end offsets as they were when
     * called (committed records only for a read_committed consumer); fails after {@code timeout}.
     */
    public static <K, V> List<ConsumerRecord<K, V>> readToEnd(KafkaConsumer<K, V> consumer, String topic,
                                                              Duration timeout) {
        List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (partitions.stream().anyMatch(p -> consumer.position(p, timeout) < end.get(p))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("did not reach the end of " + topic + " within " + timeout);
            }
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        return out;
    }

    private static <K, V> List<ConsumerRecord<K, V>> drain(KafkaConsumer<K, V> consumer, int count,
                                                           Predicate<ConsumerRecord<K, V>> filter, Duration timeout) {
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < count && System.nanoTime() < deadline) {
            for (ConsumerRecord<K, V> r : consumer.poll(Duration.ofMillis(200))) {
                if (filter.test(r)) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    /**
     * Reads {@code partition} of {@code topic} from {@code fromOffset} until {@code count} records matching
     * {@code filter} arrived or {@code timeout} passed; returns what arrived.
     */
    public static <K, V> List<ConsumerRecord<K, V>> read(KafkaConsumer<K, V> consumer, String topic, int partition,
                                                         long fromOffset, int count, Predicate<ConsumerRecord<K, V>> filter,
                                                         Duration timeout) {
        TopicPartition tp = new TopicPartition(topic, partition);
        consumer.assign(List.of(tp));
        consumer.seek(tp, fromOffset);
        return drain(consumer, count, filter, timeout);
    }
}
