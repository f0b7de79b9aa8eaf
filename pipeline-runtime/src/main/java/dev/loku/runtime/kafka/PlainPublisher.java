package dev.loku.runtime.kafka;

import dev.loku.schemas.Topic;
import dev.loku.schemas.ValueSerdeFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends records outside any transaction, at once (docs/pipeline.md, "Delivery": JobProgress is a heartbeat, not a
 * fact). For what a long job wants seen while it runs, which a transaction would hide from read_committed readers
 * until the job ends. Fire and forget: a failed send is logged by exception class and otherwise ignored, since
 * losing a heartbeat is harmless and must never fail the job. Thread-safe.
 */
public final class PlainPublisher implements Consumer<TopicRecord<?, ?>>, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PlainPublisher.class);

    private final KafkaProducer<byte[], byte[]> producer;
    private final ValueSerdeFactory serdes;
    private final Map<String, Serializer<Object>> serializers = new HashMap<>();

    /** @param kafka base client settings; {@code clientId} names the producer */
    public PlainPublisher(Map<String, Object> kafka, String clientId, ValueSerdeFactory serdes) {
        Map<String, Object> p = new HashMap<>(kafka);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        this.serdes = serdes;
    }

    @Override
    public void accept(TopicRecord<?, ?> record) {
        try {
            producer.send(serialize(record), (meta, error) -> {
                if (error != null) {
                    LOG.warn("event=plain_send_failed topic={} error={}", record.topicName(),
                            error.getClass().getSimpleName());
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("event=plain_send_failed topic={} error={}", record.topicName(), e.getClass().getSimpleName());
        }
    }

    @SuppressWarnings("unchecked")
    private synchronized ProducerRecord<byte[], byte[]> serialize(TopicRecord<?, ?> r) {
        Topic<Object, SpecificRecord> topic = (Topic<Object, SpecificRecord>) r.topic();
        byte[] key = r.key() == null ? null : topic.keySerde().serializer().serialize(r.topicName(), r.key());
        Serializer<Object> values = serializers.computeIfAbsent(topic.name(),
                n -> (Serializer<Object>) (Serializer<?>) serdes.valueSerde(topic).serializer());
        return new ProducerRecord<>(r.topicName(), key, values.serialize(r.topicName(), r.value()));
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
        synchronized (this) {
            serializers.values().forEach(Serializer::close);
        }
    }
}
