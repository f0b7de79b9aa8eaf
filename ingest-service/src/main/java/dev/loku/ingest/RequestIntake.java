package dev.loku.ingest;

import dev.loku.events.ArtifactRef;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.ErasureRequest;
import dev.loku.events.PipelineStage;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.ArtifactStore;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.Sha256;
import dev.loku.runtime.artifact.StorageUnavailableException;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.crypto.ContentSeal;
import dev.loku.runtime.crypto.DataKeyStore;
import dev.loku.runtime.crypto.SealedLines;
import dev.loku.runtime.crypto.SealedRequests;
import dev.loku.runtime.kafka.DecodeResult;
import dev.loku.runtime.kafka.RecordDecoder;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.runtime.kafka.UndecodableRecord;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.schemas.ErasureRequests;
import dev.loku.schemas.Topics;
import dev.loku.schemas.ValueSerdeFactory;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 1 of docs/pipeline.md up to the batcher, for each raw record of {@code loku.erasure-requests}:
 * <ol>
 *   <li>undecodable bytes: a dead letter (topic, partition, offset, reason, original bytes), audit DEAD_LETTERED
 *       then REJECTED under the request id {@link PipelineIds#undecodableRequestId} gives (the key when it is a
 *       UUID, else a name-based UUID of topic/partition/offset);</li>
 *   <li>a request id seen before (within {@code ingest.dedupe.retention}): dropped, logged by id and counted ({@code loku_duplicates_total}); no audit, no
 *       second job;</li>
 *   <li>otherwise RECEIVED, then REJECTED when the content is plaintext (not sealed), does not open under the
 *       request's data key, or fails the {@link RequestValidator} (on the content opened in memory); or: the
 *       content is written sealed ({@link SealedLines}) as an artifact, ACCEPTED (with contentSha256), and a
 *       {@link BatchMember} goes on keyed by model id. Before the content is stored, the request's hold on it
 *       is recorded in the ledger ({@link ForgetSetLedger#holdWaiting}). A rejected request whose content opened has
 *       its key destroyed.</li>
 * </ol>
 * Decoding happens here, not in the source's deserializer, so that a bad record's audit trail and dead letter come
 * out of one processor, in the same exactly-once transaction as everything else.
 */
final class RequestIntake implements Processor<byte[], byte[], String, IngestOutput> {

    private static final Logger LOG = LoggerFactory.getLogger(RequestIntake.class);

    static final AuditReason NOT_SEALED = AuditReason.of("content is not sealed: the producer must seal it under the "
            + "request's data key (sealedContent; loku submit does), plaintext texts and qaPairs are refused");
    static final AuditReason BOTH_FORMS = AuditReason.of("the request has both sealed and plaintext content");

    /** How often the dedupe store is swept for ids older than the retention (more often if the retention is short). */
    static final Duration SWEEP_INTERVAL = Duration.ofHours(1);

    private final RecordDecoder<String, ErasureRequest> decoder;
    private final RequestValidator validator;
    private final ArtifactStore artifacts;
    private final DataKeyStore keys;
    private final ContentSeal seal;
    private final ForgetSetLedger ledger;
    private final AuditEmitter audit;
    private final DeadLetterPublisher deadLetters;
    private final ServiceMetrics metrics;
    private final Duration dedupeRetention;
    private ProcessorContext<String, IngestOutput> context;
    private KeyValueStore<String, Long> seen;

    RequestIntake(ValueSerdeFactory serdes, RequestValidator validator, ArtifactStore artifacts, DataKeyStore keys,
                  ForgetSetLedger ledger,
                  AuditEmitter audit, DeadLetterPublisher deadLetters, ServiceMetrics metrics, Duration dedupeRetention) {
        this.decoder = RecordDecoder.forTopic(Topics.ERASURE_REQUESTS, serdes);
        this.validator = validator;
        this.artifacts = artifacts;
        this.keys = keys;
        this.seal = new ContentSeal(keys);
        this.ledger = ledger;
        this.audit = audit;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
        this.dedupeRetention = dedupeRetention;
    }

    @Override
    public void init(ProcessorContext<String, IngestOutput> context) {
        this.context = context;
        this.seen = context.getStateStore(IngestTopology.REQUEST_IDS_STORE);
        Duration every = dedupeRetention.compareTo(SWEEP_INTERVAL) < 0 ? dedupeRetention : SWEEP_INTERVAL;
        context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::forgetOldIds);
    }

    /**
     * Deletes the ids first seen more than {@code dedupeRetention} ago, so the dedupe store stays bounded by the
     * request rate times the retention. Deletes go through the store's changelog like any write.
     */
    void forgetOldIds(long now) {
        long cutoff = now - dedupeRetention.toMillis();
        List<String> expired = new ArrayList<>();
        try (KeyValueIterator<String, Long> all = seen.all()) {
            while (all.hasNext()) {
                KeyValue<String, Long> entry = all.next();
                if (entry.value != null && entry.value < cutoff) {
                    expired.add(entry.key);
                }
            }
        }
        expired.forEach(seen::delete);
        if (!expired.isEmpty()) {
            LOG.info("event=dedupe_sweep forgotten_ids={} retention={}", expired.size(), dedupeRetention);
        }
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        RecordMetadata where = context.recordMetadata().orElseThrow();
        ConsumerRecord<byte[], byte[]> raw = new ConsumerRecord<>(where.topic(), where.partition(), where.offset(),
                record.timestamp(), TimestampType.CREATE_TIME, -1, -1, record.key(), record.value(), record.headers(),
                Optional.empty());
        DecodeResult<String, ErasureRequest> decoded = decoder.decode(raw);
        long now = context.currentSystemTimeMs();
        if (decoded.undecodable().isPresent()) {
            deadLetter(decoded.undecodable().get(), now);
            return;
        }
        ErasureRequest request = decoded.decoded().orElseThrow().value();
        UUID requestId = request.getRequestId();
        String id = requestId.toString();
        if (seen.get(id) != null) {
            metrics.duplicate();
            LOG.info("event=duplicate_request request_id={} action=dropped", id);
            return;
        }
        seen.put(id, now);
        if (request.getSealedContent() == null) {
            // Plaintext content is refused: it would otherwise reach the artifact store and outlive its key.
            String hash = ErasureRequests.contentSha256(request);
            forward(event(request, AuditStatus.RECEIVED, now).contentSha256(hash).build(), now);
            reject(request, hash, request.getTexts().isEmpty() && request.getQaPairs().isEmpty()
                    ? RequestValidator.NO_CONTENT : NOT_SEALED, now, false);
            return;
        }
        if (!request.getTexts().isEmpty() || !request.getQaPairs().isEmpty()) {
            forward(event(request, AuditStatus.RECEIVED, now).build(), now);
            reject(request, null, BOTH_FORMS, now, false);
            return;
        }
        ErasureRequest opened;
        try {
            opened = SealedRequests.opened(seal, request);
        } catch (ContentSeal.UnsealException e) {
            forward(event(request, AuditStatus.RECEIVED, now).build(), now);
            reject(request, null, AuditReason.unsealFailure(e), now, false);
            return;
        } catch (SealedRequests.NotContentException e) {
            forward(event(request, AuditStatus.RECEIVED, now).build(), now);
            reject(request, null, AuditReason.format("the sealed content is not content JSONL (line %d)", e.line()),
                    now, true);
            return;
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot read the data key store for request " + id, e);
        }
        String contentSha256 = ErasureRequests.contentSha256(opened);
        forward(event(request, AuditStatus.RECEIVED, now).contentSha256(contentSha256).build(), now);

        Optional<AuditReason> rejection = validator.rejection(opened, record.headers());
        if (rejection.isPresent()) {
            reject(opened, contentSha256, rejection.get(), now, true);
            return;
        }
        ArtifactRef content;
        try {
            // Stored sealed, line by line, under the request's key: the forget set is cut from these bytes.
            byte[] lines = SealedLines.seal(seal, requestId, SealedRequests.contentJsonl(opened));
            // The hold first: a purge of another set with equal bytes then keeps the blob (or puts it back).
            ledger.holdWaiting(requestId, Sha256.hex(lines));
            content = artifacts.put(lines);
        } catch (IOException e) {
            // The store is down or full: fail the task (exactly-once rolls back), rather than lose the request.
            throw new StorageUnavailableException("cannot store the content of request " + id + " in the artifact store", e);
        }
        forward(event(request, AuditStatus.ACCEPTED, now).contentSha256(contentSha256).build(), now);
        LOG.info("event=request_accepted {} content_artifact={}", ErasureRequests.describe(opened), content.getSha256());
        int items = opened.getTexts().size() + opened.getQaPairs().size();
        BatchMember member = new BatchMember(requestId, request.getTenantId(), request.getModelId(), contentSha256,
                items, content.getUri(), content.getSha256(),
                content.getSizeBytes());
        context.forward(new Record<>(request.getModelId(), new IngestOutput.Accepted(member), record.timestamp()));
    }

    /**
     * REJECTED with {@code reason}; when the content opened ({@code destroyKey}), the request's data key is destroyed
     * too, so the sealed copy left in the request topic never opens again. A key that did not open the content is
     * left alone: it may be another request's.
     */
    private void reject(ErasureRequest request, String contentSha256, AuditReason reason, long now, boolean destroyKey) {
        LOG.info("event=request_rejected request_id={} tenant_id={} model_id={} content_sha256={} reason=\"{}\"",
                request.getRequestId(), request.getTenantId(), request.getModelId(), contentSha256, reason);
        AuditEmitter.Builder e = event(request, AuditStatus.REJECTED, now).reason(reason);
        forward((contentSha256 == null ? e : e.contentSha256(contentSha256)).build(), now);
        if (destroyKey) {
            try {
                keys.destroy(request.getRequestId());
            } catch (IOException x) {
                throw new StorageUnavailableException("cannot destroy the data key of request " + request.getRequestId(), x);
            }
        }
    }

    private void deadLetter(UndecodableRecord bad, long now) {
        UUID requestId = PipelineIds.undecodableRequestId(bad.key(), bad.topic(), bad.partition(), bad.offset());
        TopicRecord<byte[], dev.loku.events.DeadLetter> letter = deadLetters.undecodable(bad);
        context.forward(new Record<>(null, new IngestOutput.DeadLettered(letter.key(), letter.value()), now));
        forward(audit.event(requestId, PipelineStage.INGEST, AuditStatus.DEAD_LETTERED)
                .reason(AuditReason.undecodable(bad)).at(Instant.ofEpochMilli(now)).build(), now);
        forward(audit.event(requestId, PipelineStage.INGEST, AuditStatus.REJECTED)
                .reason(AuditReason.format("the record could not be decoded; dead-lettered from %s partition %d offset %d",
                        AuditReason.id(bad.topic()), bad.partition(), bad.offset()))
                .at(Instant.ofEpochMilli(now)).build(), now);
    }

    private AuditEmitter.Builder event(ErasureRequest request, AuditStatus status, long now) {
        return audit.event(request.getRequestId(), PipelineStage.INGEST, status).tenant(request.getTenantId())
                .model(request.getModelId()).at(Instant.ofEpochMilli(now));
    }

    private void forward(AuditEvent event, long now) {
        context.forward(new Record<>(event.getRequestId().toString(), new IngestOutput.Audit(event), now));
    }

    @Override
    public void close() {
        decoder.close();
    }
}
