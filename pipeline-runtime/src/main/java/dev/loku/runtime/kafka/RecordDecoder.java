package dev.loku.runtime.kafka;

import dev.loku.runtime.serde.RegistryUnavailableException;
import dev.loku.schemas.Topic;
import dev.loku.schemas.ValueSerdeFactory;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Decodes records consumed as raw bytes, never throwing for bad input: each record comes back either decoded or as
 * an {@link UndecodableRecord} naming topic, partition, offset and reason, so a consumer reports or dead-letters it
 * and moves on to the next. Consuming bytes and decoding here (rather than in the consumer) keeps one bad record from
 * failing a whole {@code poll}, and keeps the original bytes at hand for the dead letter.
 *
 * <p>The one exception: a {@link RegistryUnavailableException} (the registry did not answer) is thrown, not turned
 * into an undecodable record, because the record is not at fault and must be read again once the registry is back.
 */
public final class RecordDecoder<K, V> implements AutoCloseable {

    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;

    public RecordDecoder(Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this.keyDeserializer = Objects.requireNonNull(keyDeserializer, "keyDeserializer");
        this.valueDeserializer = Objects.requireNonNull(valueDeserializer, "valueDeserializer");
    }

    /** A decoder for a catalogue topic, with its key serde and the value serde from {@code serdes}. */
    public static <K, V extends SpecificRecord> RecordDecoder<K, V> forTopic(Topic<K, V> topic, ValueSerdeFactory serdes) {
        return new RecordDecoder<>(topic.keySerde().deserializer(), topic.valueSerde(serdes).deserializer());
    }

    /**
     * Decodes one record. Errors from the deserializers are captured, not thrown, except that the registry could not
     * be reached.
     *
     * @throws RegistryUnavailableException when the value's schema could not be fetched for want of a registry
     */
    public DecodeResult<K, V> decode(ConsumerRecord<byte[], byte[]> raw) {
        K key;
        try {
            key = raw.key() == null ? null : keyDeserializer.deserialize(raw.topic(), raw.headers(), raw.key());
        } catch (RuntimeException e) {
            return new DecodeResult.Undecodable<>(UndecodableRecord.of(raw, UndecodableRecord.Part.KEY, e));
        }
        V value;
        try {
            value = valueDeserializer.deserialize(raw.topic(), raw.headers(), raw.value());
            if (value == null) {
                // A tombstone or a deserializer that gives up silently: either way there is no event to act on.
                throw new IllegalArgumentException("value decoded to null");
            }
        } catch (RuntimeException e) {
            var unavailable = RegistryUnavailableException.in(e);
            if (unavailable.isPresent()) {
                throw unavailable.get();
            }
            return new DecodeResult.Undecodable<>(UndecodableRecord.of(raw, UndecodableRecord.Part.VALUE, e));
        }
        return new DecodeResult.Decoded<>(new ConsumerRecord<>(raw.topic(), raw.partition(), raw.offset(),
                raw.timestamp(), raw.timestampType(), raw.serializedKeySize(), raw.serializedValueSize(), key, value,
                raw.headers(), raw.leaderEpoch()));
    }

    @Override
    public void close() {
        keyDeserializer.close();
        valueDeserializer.close();
    }
}
