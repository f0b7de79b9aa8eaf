package dev.loku.ingest;

import dev.loku.events.DeadLetter;
import dev.loku.events.DeadLetterCause;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ImportanceReady;
import dev.loku.events.UnlearnCompleted;
import dev.loku.runtime.kafka.DecodeResult;
import dev.loku.runtime.kafka.RecordDecoder;
import dev.loku.schemas.Topics;
import dev.loku.schemas.ValueSerdeFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks out of {@code loku.dead-letters} the job records the Fisher, worker and eval stages could not decode
 * ({@link DeadLetterCause#UNDECODABLE} on {@code loku.forget-sets}, {@code loku.importance} or
 * {@code loku.candidates}), and forwards each as a {@link JobDeadLetter} keyed by the record's model id (job topics
 * are keyed by model id). Such a record never produces a verdict, so without this the model's gate would stay shut:
 * the batcher closes the set in flight when the record was, or may have been, its own.
 *
 * <p>Every other dead letter (requests, verdicts, jobs that failed and published their own final verdict) is none of
 * the batcher's business and passes by silently; the topic itself keeps them. The dead letters' original bytes are
 * never logged (a request's may be personal data).
 */
final class JobDeadLetterReader implements Processor<byte[], byte[], String, JobDeadLetter> {

    private static final Logger LOG = LoggerFactory.getLogger(JobDeadLetterReader.class);

    private final RecordDecoder<byte[], DeadLetter> letters;
    /** For each job topic, how to read the forget-set id out of its original value. */
    private final Map<String, Function<byte[], UUID>> forgetSetIds;
    private ProcessorContext<String, JobDeadLetter> context;

    JobDeadLetterReader(ValueSerdeFactory serdes) {
        this.letters = RecordDecoder.forTopic(Topics.DEAD_LETTERS, serdes);
        Deserializer<ForgetSetReady> sets = Topics.FORGET_SETS.valueSerde(serdes).deserializer();
        Deserializer<ImportanceReady> importance = Topics.IMPORTANCE.valueSerde(serdes).deserializer();
        Deserializer<UnlearnCompleted> candidates = Topics.CANDIDATES.valueSerde(serdes).deserializer();
        this.forgetSetIds = Map.of(
                Topics.FORGET_SETS.name(), v -> sets.deserialize(Topics.FORGET_SETS.name(), v).getForgetSetId(),
                Topics.IMPORTANCE.name(), v -> importance.deserialize(Topics.IMPORTANCE.name(), v).getForgetSetId(),
                Topics.CANDIDATES.name(), v -> candidates.deserialize(Topics.CANDIDATES.name(), v).getForgetSetId());
    }

    @Override
    public void init(ProcessorContext<String, JobDeadLetter> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        RecordMetadata where = context.recordMetadata().orElseThrow();
        DecodeResult<byte[], DeadLetter> decoded = letters.decode(new ConsumerRecord<>(where.topic(), where.partition(),
                where.offset(), record.timestamp(), TimestampType.CREATE_TIME, -1, -1, record.key(), record.value(),
                record.headers(), Optional.empty()));
        if (decoded.undecodable().isPresent()) {
            // Never dead-lettered again (that would feed this very topic); the record stays where it is.
            LOG.warn("event=dead_letter_unreadable {} action=ignored", decoded.undecodable().get().describe());
            return;
        }
        DeadLetter letter = decoded.decoded().get().value();
        Function<byte[], UUID> idOf = forgetSetIds.get(letter.getSourceTopic());
        if (idOf == null || letter.getCause() != DeadLetterCause.UNDECODABLE) {
            return;
        }
        String modelId = letter.getOriginalKey() == null ? null
                : StandardCharsets.UTF_8.decode(letter.getOriginalKey().duplicate()).toString();
        if (modelId == null || !modelId.matches("[A-Za-z0-9._-]{1,128}")) {
            LOG.warn("event=job_dead_letter_without_model topic={} partition={} offset={} action=ignored",
                    letter.getSourceTopic(), letter.getPartition(), letter.getOffset());
            return;
        }
        UUID forgetSetId = null;
        ByteBuffer original = letter.getOriginalValue();
        if (original != null) {
            byte[] bytes = new byte[original.remaining()];
            original.duplicate().get(bytes);
            try {
                forgetSetId = idOf.apply(bytes);
            } catch (RuntimeException e) {
                // Still undecodable: it could have been any set's.
            }
        }
        LOG.info("event=job_dead_letter model={} topic={} partition={} offset={} forget_set_id={}", modelId,
                letter.getSourceTopic(), letter.getPartition(), letter.getOffset(), forgetSetId);
        context.forward(new Record<>(modelId, new JobDeadLetter(letter.getSourceTopic(), letter.getPartition(),
                letter.getOffset(), forgetSetId), record.timestamp()));
    }

    @Override
    public void close() {
        letters.close();
    }
}
