package dev.loku.ingest;

import dev.loku.events.ArtifactRef;
import dev.loku.events.AuditStatus;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.PipelineStage;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.ArtifactNotFoundException;
import dev.loku.runtime.artifact.ArtifactStore;
import dev.loku.runtime.artifact.CorruptArtifactException;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.AuditReason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches a model's accepted requests into forget sets, one set in flight per model (docs/pipeline.md, step 1).
 * Its input, keyed by model id, merges accepted requests and the verdicts of {@code loku.verifications}
 * (co-partitioned, so one task sees both for a model).
 * <ul>
 *   <li><b>Cut</b> when the model has no set in flight and its waiting requests number at least
 *       {@code ingest.batch.max.requests}, or the oldest has waited {@code ingest.batch.max.wait} (checked on every
 *       input and by a wall-clock punctuation). A cut takes <i>every</i> waiting request: a busy model gets larger
 *       sets, not a queue of stale ones.</li>
 *   <li>Cutting writes the forget-set artifact (the members' content artifacts, verified, concatenated in request-id
 *       order), forwards ForgetSetReady (id from the sorted member ids, base version = the model's current
 *       version, attempt 1), and audits BATCHED for each member.</li>
 *   <li><b>Gate</b>: a verdict for the set in flight with {@code retrying = false} releases the model; a PASS also
 *       makes the verified candidate the model's current version. Retrying verdicts and verdicts of other sets
 *       (late duplicates) change nothing.</li>
 * </ul>
 * The state (store {@link IngestTopology#BATCHES_STORE}) holds ids, hashes and artifact refs only.
 */
final class ForgetSetBatcher implements Processor<String, ForgetSetBatcher.Input, String, IngestOutput> {

    /** An accepted request or a verdict, for one model. */
    record Input(BatchMember member, VerificationResult verdict) {
        static Input member(BatchMember m) {
            return new Input(m, null);
        }

        static Input verdict(VerificationResult v) {
            return new Input(null, v);
        }
    }

    /** ForgetSetReady.attempt of a newly cut set (the schema counts attempts from 1). */
    static final int FIRST_ATTEMPT = 1;

    private static final Logger LOG = LoggerFactory.getLogger(ForgetSetBatcher.class);

    private final int maxRequests;
    private final long maxWaitMs;
    private final Duration checkInterval;
    private final ArtifactStore artifacts;
    private final AuditEmitter audit;
    private ProcessorContext<String, IngestOutput> context;
    private KeyValueStore<String, ModelBatchState> batches;

    ForgetSetBatcher(int maxRequests, Duration maxWait, Duration checkInterval, ArtifactStore artifacts, AuditEmitter audit) {
        this.maxRequests = maxRequests;
        this.maxWaitMs = maxWait.toMillis();
        this.checkInterval = checkInterval;
        this.artifacts = artifacts;
        this.audit = audit;
    }

    @Override
    public void init(ProcessorContext<String, IngestOutput> context) {
        this.context = context;
        this.batches = context.getStateStore(IngestTopology.BATCHES_STORE);
        context.schedule(checkInterval, PunctuationType.WALL_CLOCK_TIME, this::cutWaitedLongEnough);
    }

    @Override
    public void process(Record<String, Input> record) {
        String modelId = record.key();
        long now = context.currentSystemTimeMs();
        ModelBatchState state = batches.get(modelId);
        if (state == null) {
            state = ModelBatchState.initial();
        }
        Input in = record.value();
        if (in.member() != null) {
            if (state.holds(in.member().requestId())) {
                LOG.info("event=duplicate_member model={} request_id={} action=ignored", modelId, in.member().requestId());
                return;
            }
            state = state.withPending(in.member(), now);
        } else if (in.verdict() != null) {
            state = onVerdict(modelId, state, in.verdict());
        }
        batches.put(modelId, cutIfDue(modelId, state, now));
    }

    private ModelBatchState onVerdict(String modelId, ModelBatchState state, VerificationResult v) {
        ModelBatchState.InFlight set = state.inFlight();
        if (set == null || !set.forgetSetId().equals(v.getForgetSetId())) {
            LOG.info("event=verdict_ignored model={} forget_set_id={} cause=not_in_flight", modelId, v.getForgetSetId());
            return state;
        }
        if (v.getRetrying()) {
            LOG.info("event=gate_held model={} forget_set_id={} attempt={} cause=retrying", modelId, v.getForgetSetId(),
                    v.getAttempt());
            return state;
        }
        String version = v.getVerdict() == Verdict.PASS ? v.getCandidateVersion() : state.currentVersion();
        LOG.info("event=gate_opened model={} forget_set_id={} verdict={} current_version={}", modelId,
                v.getForgetSetId(), v.getVerdict(), version);
        return state.released(version);
    }

    /** The wall-clock check: cut every model whose oldest waiting request waited long enough. */
    private void cutWaitedLongEnough(long now) {
        List<KeyValue<String, ModelBatchState>> due = new ArrayList<>();
        try (KeyValueIterator<String, ModelBatchState> all = batches.all()) {
            while (all.hasNext()) {
                KeyValue<String, ModelBatchState> kv = all.next();
                if (isDue(kv.value, now)) {
                    due.add(kv);
                }
            }
        }
        for (KeyValue<String, ModelBatchState> kv : due) {
            batches.put(kv.key, cut(kv.key, kv.value, now));
        }
    }

    private ModelBatchState cutIfDue(String modelId, ModelBatchState state, long now) {
        return isDue(state, now) ? cut(modelId, state, now) : state;
    }

    private boolean isDue(ModelBatchState state, long now) {
        return state.inFlight() == null && !state.pending().isEmpty()
                && (state.pending().size() >= maxRequests || now - state.pendingSinceMs() >= maxWaitMs);
    }

    private ModelBatchState cut(String modelId, ModelBatchState state, long now) {
        List<BatchMember> members = new ArrayList<>(state.pending());
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
                forward(audit.event(m.requestId(), PipelineStage.BATCHING, AuditStatus.FAILED).tenant(m.tenantId())
                        .model(modelId).contentSha256(m.contentSha256())
                        .reason(AuditReason.of("the request's content artifact is missing or corrupt"))
                        .at(Instant.ofEpochMilli(now)).build(), now);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read content artifacts for model " + modelId, e);
            }
        }
        if (usable.isEmpty()) {
            return new ModelBatchState(state.currentVersion(), List.of(), 0, null);
        }
        List<UUID> ids = usable.stream().map(BatchMember::requestId).toList();
        UUID forgetSetId = PipelineIds.forgetSetId(ids);
        ArtifactRef forgetSet;
        try {
            forgetSet = artifacts.put(ForgetSetContent.concatenate(lines));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store forget set " + forgetSetId + " in the artifact store", e);
        }
        String base = state.currentVersion();
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
            forward(audit.event(m.requestId(), PipelineStage.BATCHING, AuditStatus.BATCHED).tenant(m.tenantId())
                    .model(modelId).contentSha256(m.contentSha256()).forgetSet(forgetSetId).modelVersion(base)
                    .attempt(FIRST_ATTEMPT).at(Instant.ofEpochMilli(now)).build(), now);
        }
        LOG.info("event=forget_set_cut model={} forget_set_id={} requests={} items={} base_version={} artifact={}",
                modelId, forgetSetId, usable.size(), ready.getItemCount(), base, forgetSet.getSha256());
        return state.cut(new ModelBatchState.InFlight(forgetSetId, ids, base, now));
    }

    private void forward(dev.loku.events.AuditEvent event, long now) {
        context.forward(new Record<>(event.getRequestId().toString(), new IngestOutput.Audit(event), now));
    }
}
