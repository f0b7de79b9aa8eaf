package dev.loku.runtime.kafka;

import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** What {@link RecordDecoder} made of one raw record: the typed record, or why it could not be decoded. */
public sealed interface DecodeResult<K, V> {

    /** The typed record, if decoding worked. */
    default Optional<ConsumerRecord<K, V>> decoded() {
        return this instanceof Decoded<K, V> d ? Optional.of(d.record()) : Optional.empty();
    }

    /** What went wrong, if decoding failed. */
    default Optional<UndecodableRecord> undecodable() {
        return this instanceof Undecodable<K, V> u ? Optional.of(u.problem()) : Optional.empty();
    }

    /** Decoding worked. */
    record Decoded<K, V>(ConsumerRecord<K, V> record) implements DecodeResult<K, V> {
    }

    /** Decoding failed; the problem says where and why and keeps the original bytes. */
    record Undecodable<K, V>(UndecodableRecord problem) implements DecodeResult<K, V> {
    }
}
