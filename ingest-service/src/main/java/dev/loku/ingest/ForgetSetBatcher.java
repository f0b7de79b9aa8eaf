package dev.loku.ingest;

import dev.loku.events.ArtifactRef;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ModelVersionPromoted;
import dev.loku.events.PipelineStage;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.ArtifactNotFoundException;
import dev.loku.runtime.artifact.ArtifactStore;
import dev.loku.runtime.artifact.CorruptArtifactException;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.StorageUnavailableException;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.crypto.DataKeyStore;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.config.ConfigType;
import dev.loku.runtime.job.FinalFailure;
import dev.loku.runtime.job.ForgetSetJob;
import dev.loku.runtime.job.StageAudit;
import dev.loku.runtime.kafka.DecodeResult;
import dev.loku.runtime.kafka.RecordDecoder;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.schemas.Topics;
import dev.loku.schemas.ValueSerdeFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches a model's accepted requests into forget sets, one set in flight per model (docs/pipeline.md, step 1).
 * Its input, keyed by model id, merges accepted requests, the verdicts of {@code loku.verifications} and the dead
 * letters of the job topics (all co-partitioned, so one task sees everything of a model).
 * <ul>
 *   <li><b>Cut</b> when the model has no set in flight and its waiting requests number at least
 *       {@code ingest.batch.max.requests}, or the oldest has waited {@code ingest.batch.max.wait} (checked on every
 *       input and by a wall-clock punctuation). A cut takes the oldest waiting requests up to
 *       {@code ingest.forget.set.max.requests} and {@code ingest.forget.set.max.bytes}: a busy model gets larger sets,
 *       never one larger than the caps; what is left waits for the next.</li>
 *   <li>Cutting writes the forget-set artifact (the members' content artifacts, verified, concatenated in request-id
 *       order), forwards ForgetSetReady (id from the sorted member ids, base version from {@link ServedVersion},
 *       attempt 1), and audits BATCHED for each member. A set whose id is already closed in the ledger (the same
 *       requests re-sent after the dedupe window) would be ignored by every stage: its members are REJECTED instead,
 *       their re-written content deleted.</li>
 *   <li><b>Gate</b>: a final verdict ({@code retrying = false}) for the set in flight releases the model; a PASS also
 *       makes the verified candidate the model's current version. A retrying verdict restarts the stuck-gate clock.
 *       Verdicts of other sets (late duplicates) change nothing. A verdict that cannot be decoded is dead-lettered and
 *       decoded again at every check, since it may be the one that opens the gate.</li>
 *   <li><b>Sets that cannot finish</b> are closed by ingest itself, with a reason: when a job record (ForgetSetReady,
 *       ImportanceReady, UnlearnCompleted) of the set in flight, or one that cannot be told apart from it, was
 *       dead-lettered as undecodable by the next stage; and when no verdict came within {@code ingest.gate.timeout}.
 *       Closing audits FAILED per member and publishes a final FAIL verdict ({@link FinalFailure}), so the set's data
 *       are purged and later events for it ignored like for any failed set, then opens the gate.</li>
 * </ul>
 * The state holds ids, hashes and artifact refs only, in three stores: the model's fixed-size
 * {@link ModelBatchState} (read and written for every input), its waiting requests ({@link WaitingRequest}, one
 * record each, in arrival order) and the members of its set in flight ({@link InFlightSet}). So the cost of a request
 * does not grow with the number of requests waiting.
 */
final class ForgetSetBatcher implements Processor<String, ForgetSetBatcher.Input, String, IngestOutput> {

    /** An input of the batcher, for one model. */
    sealed interface Input {
        static Input member(BatchMember m) {
            return new Member(m);
        }

        static Input verdict(byte[] value) {
            return new RawVerdict(value);
        }

        static Input jobLetter(JobDeadLetter letter) {
            return new JobLetter(letter);
        }
    }

    /** An accepted request. */
    record Member(BatchMember member) implements Input {
    }

    /** A record of {@code loku.verifications} as read: decoded here, so an undecodable one can be tried again. */
    record RawVerdict(byte[] value) implements Input {
    }

    /** A job record of the model that the next stage could not decode. */
    record JobLetter(JobDeadLetter letter) implements Input {
    }

    /** ForgetSetReady.attempt of a newly cut set (the schema counts attempts from 1). */
    static final int FIRST_ATTEMPT = 1;

    private static final Logger LOG = LoggerFactory.getLogger(ForgetSetBatcher.class);

    private final IngestConfig config;
    private final ArtifactStore artifacts;
    private final ForgetSetLedger ledger;
    private final AuditEmitter audit;
    private final StageAudit stageAudit;
    private final DeadLetterPublisher deadLetters;
    private final DataKeyStore keys;
    private final FinalFailure finalFailure;
    private final RecordDecoder<String, VerificationResult> verdicts;
    private final Deserializer<ModelVersionPromoted> promotions;
    private ProcessorContext<String, IngestOutput> context;
    private KeyValueStore<String, ModelBatchState> batches;
    private KeyValueStore<String, WaitingRequest> waiting;
    private KeyValueStore<String, InFlightSet> inFlight;
    private KeyValueStore<String, ValueAndTimestamp<byte[]>> promoted;

    ForgetSetBatcher(IngestConfig config, ValueSerdeFactory serdes, ArtifactStore artifacts, ForgetSetLedger ledger,
                     DataKeyStore keys, AuditEmitter audit, DeadLetterPublisher deadLetters) {
        this.config = config;
        this.keys = keys;
        this.artifacts = artifacts;
        this.ledger = ledger;
        this.audit = audit;
        this.stageAudit = new StageAudit(audit);
        this.deadLetters = deadLetters;
        this.finalFailure = new FinalFailure(stageAudit, deadLetters, Clock.systemUTC());
        this.verdicts = new RecordDecoder<>(Serdes.String().deserializer(),
                Topics.VERIFICATIONS.valueSerde(serdes).deserializer());
        this.promotions = Topics.MODEL_VERSIONS.valueSerde(serdes).deserializer();
    }

    @Override
    public void init(ProcessorContext<String, IngestOutput> context) {
        this.context = context;
        this.batches = context.getStateStore(IngestTopology.BATCHES_STORE);
        this.waiting = context.getStateStore(IngestTopology.WAITING_STORE);
        this.inFlight = context.getStateStore(IngestTopology.IN_FLIGHT_STORE);
        this.promoted = context.getStateStore(IngestTopology.PROMOTED_VERSIONS_STORE);
        context.schedule(config.batchCheckInterval(), PunctuationType.WALL_CLOCK_TIME, this::check);
    }

    @Override
    public void process(Record<String, Input> record) {
        String modelId = record.key();
        if (modelId == null) {
            LOG.warn("event=input_without_model action=ignored");
            return;
        }
        long now = context.currentSystemTimeMs();
        ModelBatchState state = batches.get(modelId);
        if (state == null) {
            state = ModelBatchState.initial();
        }
        Input in = record.value();
        ModelBatchState next;
        if (in instanceof Member m) {
            next = enqueue(modelId, state, m.member(), now);
        } else if (in instanceof RawVerdict v) {
            next = onRawVerdict(modelId, state, v.value(), now);
        } else {
            next = onJobLetter(modelId, state, ((JobLetter) in).letter(), now);
        }
        next = cutWhileDue(modelId, next, now);
        if (!next.equals(state)) {
            batches.put(modelId, next);
        }
    }

    private ModelBatchState enqueue(String modelId, ModelBatchState state, BatchMember member, long now) {
        waiting.put(WaitingRequest.key(modelId, state.nextSeq()), new WaitingRequest(member, now));
        return state.withWaiting(now);
    }

    // ------------------------------------------------------------------ verdicts

    private ModelBatchState onRawVerdict(String modelId, ModelBatchState state, byte[] value, long now) {
        RecordMetadata where = context.recordMetadata().orElseThrow();
        DecodeResult<String, VerificationResult> decoded = decode(modelId, value, where.topic(), where.partition(),
                where.offset());
        if (decoded.decoded().isPresent()) {
            return onVerdict(modelId, state, decoded.decoded().get().value(), now);
        }
        TopicRecord<byte[], dev.loku.events.DeadLetter> letter = deadLetters.undecodable(decoded.undecodable().get());
        context.forward(new Record<>(modelId, new IngestOutput.DeadLettered(letter.key(), letter.value()), now));
        if (state.gate() == null) {
            return state; // no set waits for a verdict: it cannot be one that opens a gate
        }
        InFlightSet set = inFlight.get(modelId);
        if (set != null) {
            List<InFlightSet.UnreadVerdict> unread = new ArrayList<>(set.unreadVerdicts());
            unread.add(new InFlightSet.UnreadVerdict(value, where.topic(), where.partition(), where.offset(), now));
            if (unread.size() > InFlightSet.MAX_UNREAD_VERDICTS) {
                InFlightSet.UnreadVerdict dropped = unread.remove(0);
                LOG.warn("event=unread_verdict_dropped model={} location={}-{}@{} cause=too_many", modelId,
                        dropped.topic(), dropped.partition(), dropped.offset());
            }
            inFlight.put(modelId, set.withUnread(unread));
            LOG.warn("event=verdict_unreadable model={} forget_set_id={} location={}-{}@{} action=\"dead-lettered; "
                    + "decoded again at every check until it reads or the gate times out\"", modelId,
                    state.gate().forgetSetId(), where.topic(), where.partition(), where.offset());
        }
        return state;
    }

    private DecodeResult<String, VerificationResult> decode(String modelId, byte[] value, String topic, int partition,
                                                            long offset) {
        return verdicts.decode(new ConsumerRecord<>(topic, partition, offset, -1L, TimestampType.CREATE_TIME, -1, -1,
                modelId.getBytes(StandardCharsets.UTF_8), value, new org.apache.kafka.common.header.internals.RecordHeaders(),
                Optional.empty()));
    }

    private ModelBatchState onVerdict(String modelId, ModelBatchState state, VerificationResult v, long now) {
        ModelBatchState.Gate gate = state.gate();
        if (gate == null || !gate.forgetSetId().equals(v.getForgetSetId())) {
            LOG.info("event=verdict_ignored model={} forget_set_id={} cause=not_in_flight", modelId, v.getForgetSetId());
            return state;
        }
        if (v.getRetrying()) {
            LOG.info("event=gate_held model={} forget_set_id={} attempt={} cause=retrying", modelId, v.getForgetSetId(),
                    v.getAttempt());
            return state.withGate(gate.retrying(v.getAttempt() + 1, now));
        }
        String version = v.getVerdict() == Verdict.PASS ? v.getCandidateVersion() : state.currentVersion();
        LOG.info("event=gate_opened model={} forget_set_id={} verdict={} current_version={}", modelId,
                v.getForgetSetId(), v.getVerdict(), version);
        inFlight.delete(modelId);
        return state.released(version);
    }

    /** Decodes again the verdicts that could not be read; any that now reads is handled like a fresh one. */
    private ModelBatchState retryUnreadVerdicts(String modelId, ModelBatchState state, long now) {
        InFlightSet set = inFlight.get(modelId);
        if (set == null || set.unreadVerdicts().isEmpty()) {
            return state;
        }
        List<InFlightSet.UnreadVerdict> still = new ArrayList<>();
        List<VerificationResult> read = new ArrayList<>();
        for (InFlightSet.UnreadVerdict u : set.unreadVerdicts()) {
            decode(modelId, u.value(), u.topic(), u.partition(), u.offset()).decoded()
                    .ifPresentOrElse(r -> read.add(r.value()), () -> still.add(u));
        }
        if (read.isEmpty()) {
            return state;
        }
        LOG.info("event=unread_verdicts_decoded model={} decoded={} still_unreadable={}", modelId, read.size(),
                still.size());
        inFlight.put(modelId, set.withUnread(still));
        ModelBatchState s = state;
        for (VerificationResult v : read) {
            s = onVerdict(modelId, s, v, now);
        }
        return s;
    }

    // ------------------------------------------------------------------ sets ingest closes itself

    private ModelBatchState onJobLetter(String modelId, ModelBatchState state, JobDeadLetter letter, long now) {
        ModelBatchState.Gate gate = state.gate();
        if (gate == null || (letter.forgetSetId() != null && !letter.forgetSetId().equals(gate.forgetSetId()))) {
            LOG.info("event=job_dead_letter_ignored model={} topic={} partition={} offset={} forget_set_id={} "
                    + "cause=not_in_flight", modelId, letter.sourceTopic(), letter.partition(), letter.offset(),
                    letter.forgetSetId());
            return state;
        }
        AuditReason reason = letter.forgetSetId() != null
                ? AuditReason.format("its %s record (partition %d, offset %d) could not be decoded by the next stage "
                        + "and was dead-lettered, so the set cannot proceed", AuditReason.id(letter.sourceTopic()),
                        letter.partition(), letter.offset())
                : AuditReason.format("an undecodable record on %s (partition %d, offset %d) was dead-lettered while "
                        + "this set was in flight and may have been its own, so the set cannot be known to proceed",
                        AuditReason.id(letter.sourceTopic()), letter.partition(), letter.offset());
        return closeInFlight(modelId, state, reason, "job_record_dead_lettered", now);
    }

    /**
     * Gives up on the set in flight: FAILED per member and a final FAIL verdict (which makes the eval service purge
     * the set and every stage ignore its later events), then the gate opens.
     */
    private ModelBatchState closeInFlight(String modelId, ModelBatchState state, AuditReason reason, String cause,
                                          long now) {
        ModelBatchState.Gate gate = state.gate();
        InFlightSet set = inFlight.get(modelId);
        List<ForgetSetLedger.Member> members = set == null ? List.of() : set.members();
        if (set == null) {
            LOG.error("event=in_flight_members_missing model={} forget_set_id={} action=\"verdict without request ids\"",
                    modelId, gate.forgetSetId());
        }
        Map<UUID, ForgetSetLedger.Member> byId = new LinkedHashMap<>();
        members.forEach(m -> byId.put(m.requestId(), m));
        ForgetSetJob job = new ForgetSetJob(gate.forgetSetId(), modelId, gate.baseModelVersion(), gate.attempt(),
                List.copyOf(byId.keySet()), byId);
        VerificationResult verdict = finalFailure.verdict(job, reason);
        verdict.setVerifiedAt(Instant.ofEpochMilli(now));
        for (AuditEvent e : stageAudit.events(job, PipelineStage.BATCHING, AuditStatus.FAILED, null, reason)) {
            e.setTime(Instant.ofEpochMilli(now));
            forward(e, now);
        }
        context.forward(new Record<>(modelId, new IngestOutput.Verdict(verdict), now));
        inFlight.delete(modelId);
        LOG.warn("event=forget_set_closed_by_ingest model={} forget_set_id={} attempt={} requests={} cause={} "
                + "reason=\"{}\"", modelId, gate.forgetSetId(), gate.attempt(), members.size(), cause, reason.text());
        return state.released(state.currentVersion());
    }

    // ------------------------------------------------------------------ the wall-clock check

    /**
     * Every {@code ingest.batch.check.interval}: decode unread verdicts again, close sets that waited longer than
     * {@code ingest.gate.timeout}, and cut every model whose oldest waiting request waited long enough.
     */
    private void check(long now) {
        List<KeyValue<String, ModelBatchState>> candidates = new ArrayList<>();
        try (KeyValueIterator<String, ModelBatchState> all = batches.all()) {
            while (all.hasNext()) {
                KeyValue<String, ModelBatchState> kv = all.next();
                if (kv.value.gate() != null || isDue(kv.value, now)) {
                    candidates.add(kv);
                }
            }
        }
        long timeoutMs = config.gateTimeout().toMillis();
        for (KeyValue<String, ModelBatchState> kv : candidates) {
            ModelBatchState s = kv.value;
            if (s.gate() != null) {
                s = retryUnreadVerdicts(kv.key, s, now);
            }
            if (s.gate() != null && now - s.gate().lastNewsMs() >= timeoutMs) {
                s = closeInFlight(kv.key, s, AuditReason.format("no verdict within %s (ingest.gate.timeout) of the "
                        + "set's cut or last retry: closed by ingest so the model's later requests can proceed",
                        AuditReason.id(ConfigType.DURATION.format(config.gateTimeout()))), "gate_timeout", now);
            }
            s = cutWhileDue(kv.key, s, now);
            if (!s.equals(kv.value)) {
                batches.put(kv.key, s);
            }
        }
    }

    // ------------------------------------------------------------------ cutting

    private boolean isDue(ModelBatchState state, long now) {
        return state.gate() == null && state.waiting() > 0
                && (state.waiting() >= config.batchMaxRequests() || now - state.waitingSinceMs() >= config.batchMaxWait().toMillis());
    }

    private ModelBatchState cutWhileDue(String modelId, ModelBatchState state, long now) {
        ModelBatchState s = state;
        while (isDue(s, now)) {
            Optional<String> base = baseVersion(modelId, s);
            if (base.isEmpty()) {
                return s; // the promoted version cannot be read now: hold the cut, try again at the next check
            }
            s = cutOnce(modelId, s, base.get(), now);
        }
        return s;
    }

    /** The version the next set starts from, or empty when the model's promotion record cannot be read. */
    private Optional<String> baseVersion(String modelId, ModelBatchState state) {
        ValueAndTimestamp<byte[]> raw = promoted.get(modelId);
        Optional<ModelVersionPromoted> record = Optional.empty();
        if (raw != null && raw.value() != null) {
            try {
                record = Optional.ofNullable(promotions.deserialize(Topics.MODEL_VERSIONS.name(), raw.value()));
            } catch (RuntimeException e) {
                LOG.error("event=promoted_version_unreadable model={} error={} action=\"cut held until {} reads\"",
                        modelId, e.getClass().getSimpleName(), Topics.MODEL_VERSIONS.name());
                return Optional.empty();
            }
        }
        ServedVersion.Choice choice = ServedVersion.choose(state.currentVersion(), record);
        if (choice.disagreement() != null) {
            LOG.warn("event=served_version_checked model={} batcher_version={} promoted_version={} cause={} "
                    + "action=using_promoted", modelId, state.currentVersion(), choice.version(), choice.disagreement());
        }
        return Optional.of(choice.version());
    }

    /** One set from the oldest waiting requests, within the caps; returns the state after it. */
    private ModelBatchState cutOnce(String modelId, ModelBatchState state, String base, long now) {
        List<String> keys = new ArrayList<>();
        Map<UUID, BatchMember> taken = new LinkedHashMap<>();
        long bytes = 0;
        long oldestLeft = 0;
        boolean more = false;
        try (KeyValueIterator<String, WaitingRequest> queue = waiting.prefixScan(WaitingRequest.prefix(modelId),
                Serdes.String().serializer())) {
            while (queue.hasNext()) {
                KeyValue<String, WaitingRequest> kv = queue.next();
                BatchMember m = kv.value.member();
                if (taken.size() == config.setMaxRequests()
                        || (!taken.isEmpty() && bytes + m.contentBytes() > config.setMaxBytes())) {
                    oldestLeft = kv.value.arrivedAtMs();
                    more = true;
                    break;
                }
                keys.add(kv.key);
                if (taken.putIfAbsent(m.requestId(), m) == null) {
                    bytes += m.contentBytes();
                } else {
                    LOG.info("event=duplicate_member model={} request_id={} action=ignored", modelId, m.requestId());
                }
            }
        }
        keys.forEach(waiting::delete);
        // Without more entries the queue is empty, whatever the count said.
        ModelBatchState s = more ? state.took(keys.size(), oldestLeft) : state.took(state.waiting(), 0);

        List<BatchMember> members = new ArrayList<>(taken.values());
        members.sort(Comparator.comparing(m -> m.requestId().toString()));
        List<BatchMember> usable = new ArrayList<>();
        List<byte[]> lines = new ArrayList<>();
        for (BatchMember m : members) {
            try {
                lines.add(artifacts.read(m.contentRef()));
                usable.add(m);
            } catch (ArtifactNotFoundException | CorruptArtifactException e) {
                // Its content is gone or damaged: it cannot be unlearned, but must not hold up the others.
                LOG.error("event=member_content_unusable model={} request_id={} artifact={} error={}", modelId,
                        m.requestId(), m.contentArtifactSha256(), e.getClass().getSimpleName());
                releaseHold(m);
                forward(memberEvent(m, modelId, AuditStatus.FAILED, now)
                        .reason(AuditReason.of("the request's content artifact is missing or corrupt")).build(), now);
                destroyKey(m);
            } catch (IOException e) {
                throw new StorageUnavailableException("cannot read content artifacts for model " + modelId, e);
            }
        }
        if (usable.isEmpty()) {
            return s;
        }
        List<UUID> ids = usable.stream().map(BatchMember::requestId).toList();
        UUID forgetSetId = PipelineIds.forgetSetId(ids);
        if (ledger.isClosed(forgetSetId)) {
            return rejectSettled(modelId, s, forgetSetId, usable, now);
        }
        ArtifactRef forgetSet;
        try {
            forgetSet = artifacts.put(ForgetSetContent.concatenate(lines));
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot store forget set " + forgetSetId + " in the artifact store", e);
        }
        ForgetSetReady ready = ForgetSetReady.newBuilder()
                .setForgetSetId(forgetSetId)
                .setModelId(modelId)
                .setBaseModelVersion(base)
                .setForgetSet(forgetSet)
                .setMembers(usable.stream().map(BatchMember::toForgetSetMember).toList())
                .setRequestCount(usable.size())
                .setItemCount(usable.stream().mapToInt(BatchMember::itemCount).sum())
                .setAttempt(FIRST_ATTEMPT)
                .setCreatedAt(Instant.ofEpochMilli(now))
                .build();
        context.forward(new Record<>(modelId, new IngestOutput.ForgetSet(ready), now));
        for (BatchMember m : usable) {
            forward(memberEvent(m, modelId, AuditStatus.BATCHED, now).forgetSet(forgetSetId).modelVersion(base)
                    .attempt(FIRST_ATTEMPT).build(), now);
        }
        inFlight.put(modelId, new InFlightSet(forgetSetId, usable.stream().map(m -> new ForgetSetLedger.Member(
                m.requestId(), m.tenantId(), m.contentSha256(), m.itemCount())).toList(), List.of()));
        LOG.info("event=forget_set_cut model={} forget_set_id={} requests={} items={} bytes={} base_version={} "
                        + "still_waiting={} artifact={}", modelId, forgetSetId, usable.size(), ready.getItemCount(),
                forgetSet.getSizeBytes(), base, s.waiting(), forgetSet.getSha256());
        return s.cut(base, new ModelBatchState.Gate(forgetSetId, base, FIRST_ATTEMPT, usable.size(), now, now));
    }

    /**
     * The would-be set was settled before (closed in the ledger): exactly these requests were re-sent after the dedupe
     * window. Every stage would ignore the set, so it is never cut: each member is REJECTED with the reason, and the
     * content artifacts its re-acceptance wrote again are deleted (unless an open set holds equal bytes).
     */
    private ModelBatchState rejectSettled(String modelId, ModelBatchState state, UUID forgetSetId,
                                          List<BatchMember> members, long now) {
        AuditReason reason = AuditReason.format("already settled: forget set %s with exactly these requests was "
                + "closed before; the request was re-sent after ingest.dedupe.retention, use a new request id to "
                + "erase again", forgetSetId);
        for (BatchMember m : members) {
            forward(memberEvent(m, modelId, AuditStatus.REJECTED, now).forgetSet(forgetSetId).reason(reason).build(), now);
            try {
                ledger.releaseWaiting(m.requestId(), m.contentArtifactSha256());
                if (!ledger.heldElsewhere(forgetSetId, List.of(m.requestId()), m.contentArtifactSha256())) {
                    artifacts.delete(m.contentRef());
                }
            } catch (IOException e) {
                throw new StorageUnavailableException("cannot delete the content of request " + m.requestId(), e);
            }
            destroyKey(m);
        }
        LOG.warn("event=settled_set_not_cut model={} forget_set_id={} requests={} cause=closed_in_ledger", modelId,
                forgetSetId, members.size());
        return state;
    }

    /** A member that will never be unlearned: its data key goes, so no copy of its content opens again. */
    private void destroyKey(BatchMember m) {
        try {
            keys.destroy(m.requestId());
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot destroy the data key of request " + m.requestId(), e);
        }
    }

    /**
     * The request failed at the cut: it no longer holds its content blob, and damaged bytes (which may still quote the
     * text) are deleted unless an open set or another waiting request holds the same blob.
     */
    private void releaseHold(BatchMember m) {
        try {
            ledger.releaseWaiting(m.requestId(), m.contentArtifactSha256());
            if (!ledger.heldElsewhere(UUID.randomUUID(), List.of(m.requestId()), m.contentArtifactSha256())) {
                artifacts.delete(m.contentRef());
            }
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot update the ledger for request " + m.requestId(), e);
        }
    }

    private AuditEmitter.Builder memberEvent(BatchMember m, String modelId, AuditStatus status, long now) {
        return audit.event(m.requestId(), PipelineStage.BATCHING, status).tenant(m.tenantId()).model(modelId)
                .contentSha256(m.contentSha256()).at(Instant.ofEpochMilli(now));
    }

    private void forward(AuditEvent event, long now) {
        context.forward(new Record<>(event.getRequestId().toString(), new IngestOutput.Audit(event), now));
    }

    @Override
    public void close() {
        verdicts.close();
    }
}
