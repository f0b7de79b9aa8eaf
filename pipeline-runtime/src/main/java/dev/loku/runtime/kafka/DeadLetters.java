package dev.loku.runtime.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Where a {@link TransactionalJobRunner} puts an input it cannot hand on: one that does not decode, or one whose job
 * failed and whose failure handler gave no records of its own. The records returned are committed with the input's
 * offset, so nothing is dropped and nothing is retried forever.
 *
 * <p>The audit package's {@code DeadLetterPublisher} is the implementation; the runner knows only this interface, so
 * the Kafka plumbing does not depend on the audit trail that is built on top of it.
 */
public interface DeadLetters {

    /** The dead letter of a record whose bytes could not be decoded. */
    TopicRecord<?, ?> undecodable(UndecodableRecord record);

    /** The dead letter of a decoded record given up on because its job threw {@code error} (named by type only). */
    TopicRecord<?, ?> failed(ConsumerRecord<byte[], byte[]> raw, Throwable error);
}
