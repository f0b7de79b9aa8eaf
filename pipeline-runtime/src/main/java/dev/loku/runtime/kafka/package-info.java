/**
 * Kafka plumbing every service shares: creating the catalogue topics
 * ({@link dev.loku.runtime.kafka.TopicProvisioner}) and surviving records that cannot be decoded, whichever way a
 * service consumes: raw bytes decoded one by one ({@link dev.loku.runtime.kafka.RecordDecoder}), a typed consumer
 * ({@link dev.loku.runtime.kafka.SkippingPoller}), or Kafka Streams
 * ({@link dev.loku.runtime.kafka.DeadLetterDeserializationHandler}). All three report the same
 * {@link dev.loku.runtime.kafka.UndecodableRecord}: topic, partition, offset, reason, original bytes, never logged.
 *
 * <p>{@link dev.loku.runtime.kafka.TransactionalJobRunner} is the consumer loop of the long-job services (Fisher,
 * worker, eval): partitions paused while a job runs, outputs and the input offset committed in one transaction;
 * jobs return {@link dev.loku.runtime.kafka.TopicRecord}s. What it cannot hand on goes to the
 * {@link dev.loku.runtime.kafka.DeadLetters} it is given: this package knows nothing of the audit package, which
 * builds on it.
 */
package dev.loku.runtime.kafka;
