package dev.loku.runtime.job;

import dev.loku.events.AuditStatus;
import dev.loku.events.EvaluationMetrics;
import dev.loku.events.PipelineStage;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.events.VerificationThresholds;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.schemas.Topics;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a stage publishes when a forget set's job fails for good (docs/pipeline.md, "Failures"): every member
 * request FAILED with the content-free reason, the input dead-lettered (its bytes kept, nothing lost), and a
 * <b>final FAIL verdict</b> on {@code loku.verifications}. The verdict is what releases ingest's gate for the model
 * (it waits for a verdict with {@code retrying = false}) and what makes the eval service purge the set's artifacts
 * and audit PURGED: without it a failure before verification would hold the model's later requests for ever.
 * Nothing was measured, so its metrics and thresholds are NaN and its candidate version is the one this attempt
 * would have produced (never published, or withdrawn by the purge).
 */
public final class FinalFailure {

    private static final Logger LOG = LoggerFactory.getLogger(FinalFailure.class);

    private final StageAudit audit;
    private final DeadLetterPublisher deadLetters;
    private final Clock clock;

    public FinalFailure(StageAudit audit, DeadLetterPublisher deadLetters, Clock clock) {
        this.audit = audit;
        this.deadLetters = deadLetters;
        this.clock = clock;
    }

    /** The records that close {@code job} as FAILED at {@code stage} because of {@code error}. */
    public List<TopicRecord<?, ?>> outputs(ForgetSetJob job, PipelineStage stage, Exception error,
                                           ConsumerRecord<byte[], byte[]> raw) {
        AuditReason reason = JobFailure.reasonOf(error);
        List<TopicRecord<?, ?>> out = new ArrayList<>(audit.forEachRequest(job, stage, AuditStatus.FAILED,
                null, reason));
        out.add(TopicRecord.of(Topics.VERIFICATIONS, job.modelId(), verdict(job, reason)));
        out.add(deadLetters.unprocessable(raw, reason, error));
        return out;
    }

    /**
     * As {@link #outputs}, unless the set was closed meanwhile (its final verdict decided elsewhere, its artifacts
     * purged: ingest fails a set whose job topic carried a record it cannot attribute, for one): then the failure is
     * most likely the purge's doing (a missing forget set or importance), and a second FAILED per request and a second
     * final verdict would break "one terminal status per request". Nothing is published; the input is committed.
     */
    public List<TopicRecord<?, ?>> outputsUnlessClosed(ForgetSetLedger ledger, ForgetSetJob job, PipelineStage stage,
                                                       Exception error, ConsumerRecord<byte[], byte[]> raw) {
        if (ledger.isClosed(job.forgetSetId())) {
            LOG.info("event=failure_ignored stage={} forget_set_id={} attempt={} cause=set_closed reason=\"{}\"", stage,
                    job.forgetSetId(), job.attempt(), JobFailure.reasonOf(error).text());
            return List.of();
        }
        return outputs(job, stage, error, raw);
    }

    /** A final FAIL verdict without measurements. */
    public VerificationResult verdict(ForgetSetJob job, AuditReason reason) {
        EvaluationMetrics none = new EvaluationMetrics(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, null);
        return VerificationResult.newBuilder()
                .setForgetSetId(job.forgetSetId())
                .setModelId(job.modelId())
                .setBaseModelVersion(job.baseModelVersion())
                .setCandidateVersion(job.candidateVersion())
                .setVerdict(Verdict.FAIL)
                .setReason(reason.text())
                .setBefore(none)
                .setAfter(none)
                .setThresholds(new VerificationThresholds(Double.NaN, Double.NaN, Double.NaN, null))
                .setRequestIds(job.requestIds())
                .setAttempt(job.attempt())
                .setRetrying(false)
                .setVerifiedAt(clock.instant())
                .build();
    }
}
