package dev.loku.eval;

import dev.loku.events.AuditStatus;
import dev.loku.core.engine.EvaluationReport;
import dev.loku.core.engine.RecordSets;
import dev.loku.events.EvaluationMetrics;
import dev.loku.events.ImportanceReady;
import dev.loku.events.ModelVersionPromoted;
import dev.loku.events.PipelineStage;
import dev.loku.events.RetryDirection;
import dev.loku.events.UnlearnCompleted;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.events.VerificationThresholds;
import dev.loku.core.metrics.RetainTolerance;
import dev.loku.core.metrics.Thresholds;
import dev.loku.runtime.artifact.ArtifactNotFoundException;
import dev.loku.runtime.artifact.CorruptArtifactException;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ForgetSetLedger.Holding;
import dev.loku.runtime.artifact.ForgetSetLedger.Role;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.catalogue.CatalogueModel;
import dev.loku.runtime.catalogue.UnlearningProfile;
import dev.loku.runtime.job.FinalFailure;
import dev.loku.runtime.job.ForgetSetJob;
import dev.loku.runtime.job.JobFailure;
import dev.loku.runtime.job.JobWorkDir;
import dev.loku.runtime.job.PipelineStores;
import dev.loku.runtime.job.StageAudit;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.schemas.Topics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The eval service's work for one UnlearnCompleted (docs/pipeline.md, stage 4), free of Kafka plumbing: the
 * {@link EvalService}'s runner calls {@link #run} and commits what it returns with the input's offset.
 * <ol>
 *   <li>A job that already has a verdict ({@link VerifiedJobs}), or whose set is closed, is a repeat: ignored,
 *       counted in {@code loku_duplicates_total}. So a candidate is never promoted twice.</li>
 *   <li>The base version is scored once per (model, base version, forget set) and cached, so retries measure only
 *       their candidate; the candidate is scored from its published tree (verified). Both by the
 *       {@link CandidateEvaluator}, never from the worker's numbers.</li>
 *   <li>The verdict is the engine's rule ({@code dev.loku.core.metrics.Verdict}): PASS when the candidate's forget
 *       MA and EL_10 are below the base version's unseen-data MA and EL_10, its retain MA fell by at most the
 *       tolerance (the profile's {@code retainTolerance}, or {@code eval.retain.tolerance}), and its mean NLL on the
 *       model's held-out general text rose by at most the general tolerance (the profile's {@code generalTolerance},
 *       or {@code eval.general.tolerance}): the general-ability guard.</li>
 *   <li>PASS: VerificationResult, ModelVersionPromoted, VERIFIED per request. FAIL with attempts left
 *       ({@code UnlearningProfile.canRetryAfter}): VerificationResult(retrying), RETRYING per request, and
 *       ImportanceReady again with attempt + 1 and the same importance artifact, which the worker trains with a
 *       profile moved in the event's {@code retryDirection}: GENTLER when the retain or general guard failed (lower
 *       learning rate, fewer epochs), STRONGER when only the forgetting failed. FAIL with none left: VerificationResult (final), FAILED per request.</li>
 * </ol>
 * The purge that follows a final verdict is the {@link PurgeJob}'s, on {@code loku.verifications}: only after the
 * verdict is committed are the data deleted, so a crash can never leave data deleted without a verdict (or a
 * verdict that cannot be recomputed).
 */
public final class VerificationJob {

    private static final Logger LOG = LoggerFactory.getLogger(VerificationJob.class);

    private final EvalConfig config;
    private final PipelineStores stores;
    private final CandidateEvaluator evaluator;
    private final VerifiedJobs verified;
    private final StageAudit audit;
    private final FinalFailure finalFailure;
    private final ServiceMetrics metrics;
    private final Clock clock;
    private final Map<String, EvaluationReport> baselines;

    VerificationJob(EvalConfig config, PipelineStores stores, CandidateEvaluator evaluator, VerifiedJobs verified,
                    StageAudit audit, FinalFailure finalFailure, ServiceMetrics metrics, Clock clock) {
        this.config = config;
        this.stores = stores;
        this.evaluator = evaluator;
        this.verified = verified;
        this.audit = audit;
        this.finalFailure = finalFailure;
        this.metrics = metrics;
        this.clock = clock;
        int size = config.baselineCacheSize();
        this.baselines = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, EvaluationReport> eldest) {
                return size() > size;
            }
        };
    }

    /** The records to publish for {@code input}. */
    public List<TopicRecord<?, ?>> run(ConsumerRecord<String, UnlearnCompleted> input) throws Exception {
        UnlearnCompleted in = input.value();
        ForgetSetJob job = ForgetSetJob.of(in);
        String position = input.topic() + "-" + input.partition() + "@" + input.offset();
        if (!job.jobId().equals(in.getJobId())) {
            LOG.warn("event=job_id_mismatch forget_set_id={} event_job_id={} derived_job_id={}", job.forgetSetId(),
                    in.getJobId(), job.jobId());
        }
        refreshVerified();
        if (verified.isRepeat(job.jobId(), position) || stores.ledger().isClosed(job.forgetSetId())) {
            metrics.duplicate();
            LOG.info("event=duplicate_ignored service=eval forget_set_id={} job_id={} candidate_version={} "
                    + "cause=already_verified", job.forgetSetId(), job.jobId(), in.getCandidateVersion());
            return List.of();
        }
        ForgetSetLedger.SetRecord set = stores.ledger().set(job.forgetSetId()).orElseThrow(() -> JobFailure.because(
                AuditReason.of("the forget set is not in the ledger (was it cut by this pipeline?)"), null));
        job = job.withMembers(set);
        CatalogueModel model = stores.model(job);
        UnlearningProfile profile = model.profile();
        double tolerance = config.retainTolerance().orElse(profile.retainTolerance());
        double generalTolerance = config.generalTolerance().orElse(profile.generalTolerance());

        EvaluationReport before;
        EvaluationReport after;
        try (JobWorkDir work = JobWorkDir.create(config.workDir().resolve(config.common().instanceId()), job.jobId())) {
            Path forget = stores.copyForgetSet(set.forgetSet(), work.resolve("forget-set.jsonl"));
            before = baseline(job, model, forget);
            Path candidate = materialiseCandidate(in);
            after = evaluator.evaluate(candidate, sets(model, forget));
        }

        Thresholds thresholds;
        try {
            thresholds = Thresholds.measuredOnUnseen(before.unseen().ma(), before.unseen().el10());
        } catch (IllegalArgumentException e) {
            throw JobFailure.because(AuditReason.of("the base version's unseen-data scores are not numbers: no "
                    + "thresholds to verify against"), e);
        }
        dev.loku.core.metrics.Verdict rule = dev.loku.core.metrics.Verdict.judge(thresholds,
                new RetainTolerance(tolerance), generalTolerance, after.forget().ma(), after.forget().el10(),
                before.retain().ma(), after.retain().ma(), before.generalNll(), after.generalNll());
        boolean retry = !rule.passed() && profile.canRetryAfter(job.attempt());
        AuditReason reason = rule.passed() ? null : reasonFor(rule, tolerance, generalTolerance);
        VerificationResult result = VerificationResult.newBuilder()
                .setForgetSetId(job.forgetSetId())
                .setModelId(job.modelId())
                .setBaseModelVersion(job.baseModelVersion())
                .setCandidateVersion(in.getCandidateVersion())
                .setVerdict(rule.passed() ? Verdict.PASS : Verdict.FAIL)
                .setReason(reason == null ? null : reason.text())
                .setBefore(avro(before))
                .setAfter(avro(after))
                .setThresholds(new VerificationThresholds(thresholds.ma(), thresholds.el(), tolerance,
                        generalTolerance))
                .setRequestIds(job.requestIds())
                .setAttempt(job.attempt())
                .setRetrying(retry)
                .setVerifiedAt(clock.instant())
                .build();
        List<TopicRecord<?, ?>> out = new ArrayList<>();
        out.add(TopicRecord.of(Topics.VERIFICATIONS, job.modelId(), result));
        if (rule.passed()) {
            out.add(TopicRecord.of(Topics.MODEL_VERSIONS, job.modelId(), ModelVersionPromoted.newBuilder()
                    .setModelId(job.modelId())
                    .setVersion(in.getCandidateVersion())
                    .setPreviousVersion(job.baseModelVersion())
                    .setModel(in.getModel())
                    .setAdapter(in.getAdapter())
                    .setForgetSetId(job.forgetSetId())
                    .setRequestIds(job.requestIds())
                    .setPromotedAt(clock.instant())
                    .build()));
            out.addAll(audit.forEachRequest(job, PipelineStage.VERIFICATION, AuditStatus.VERIFIED,
                    in.getCandidateVersion(), null));
        } else if (retry) {
            out.add(TopicRecord.of(Topics.IMPORTANCE, job.modelId(), retryOf(job, set,
                    rule.utilityLost() ? RetryDirection.GENTLER : RetryDirection.STRONGER)));
            out.addAll(audit.forEachRequest(job, PipelineStage.VERIFICATION, AuditStatus.RETRYING,
                    in.getCandidateVersion(), reason));
        } else {
            out.addAll(audit.forEachRequest(job, PipelineStage.VERIFICATION, AuditStatus.FAILED,
                    in.getCandidateVersion(), reason));
        }
        verified.decidedHere(job.jobId(), position);
        LOG.info("event=verified forget_set_id={} job_id={} candidate_version={} attempt={} verdict={} retrying={} "
                        + "forget_ma={} forget_el10={} ma_threshold={} el10_threshold={} retain_ma_before={} "
                        + "retain_ma_after={} general_nll_before={} general_nll_after={}", job.forgetSetId(), job.jobId(),
                in.getCandidateVersion(), job.attempt(), result.getVerdict(), retry, after.forget().ma(),
                after.forget().el10(), thresholds.ma(), thresholds.el(), before.retain().ma(), after.retain().ma(),
                before.generalNll(), after.generalNll());
        return out;
    }

    /** Closes the set as FAILED at the VERIFICATION stage. */
    public List<TopicRecord<?, ?>> onFailure(ConsumerRecord<String, UnlearnCompleted> input,
                                             ConsumerRecord<byte[], byte[]> raw, Exception error) {
        ForgetSetJob job = ForgetSetJob.of(input.value());
        try {
            job = stores.ledger().set(job.forgetSetId()).map(job::withMembers).orElse(job);
        } catch (IOException e) {
            // the audit events go out without tenant and content hash
        }
        LOG.warn("event=forget_set_failed service=eval forget_set_id={} model={} attempt={} reason=\"{}\"",
                job.forgetSetId(), job.modelId(), job.attempt(), JobFailure.reasonOf(error).text());
        verified.decidedHere(job.jobId(), input.topic() + "-" + input.partition() + "@" + input.offset());
        return finalFailure.outputsUnlessClosed(stores.ledger(), job, PipelineStage.VERIFICATION, error, raw);
    }

    private void refreshVerified() throws InterruptedException {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                verified.refresh();
                return;
            } catch (org.apache.kafka.common.KafkaException e) {
                last = e;
                LOG.warn("event=verifications_unreadable attempt={} error={}", attempt + 1, e.getClass().getSimpleName());
                Thread.sleep(1_000L << attempt);
            }
        }
        throw last;
    }

    private EvaluationReport baseline(ForgetSetJob job, CatalogueModel model, Path forget) throws Exception {
        String key = job.modelId() + "/" + job.baseModelVersion() + "/" + job.forgetSetId();
        EvaluationReport cached = baselines.get(key);
        if (cached != null) {
            return cached;
        }
        EvaluationReport m = evaluator.evaluate(stores.base(job), sets(model, forget));
        baselines.put(key, m);
        return m;
    }

    private Path materialiseCandidate(UnlearnCompleted in) throws Exception {
        try {
            return stores.versions().materialise(in.getModelId(), in.getCandidateVersion(), in.getModel());
        } catch (ArtifactNotFoundException | CorruptArtifactException e) {
            throw JobFailure.because(AuditReason.format("candidate %s is missing or corrupt in the artifact store",
                    JobFailure.idOf(in.getCandidateVersion())), e);
        } catch (IllegalArgumentException e) {
            throw JobFailure.because(AuditReason.of("the candidate's version name or model is invalid"), e);
        }
    }

    /** The same importance, for the next attempt, moved in {@code direction}. */
    private ImportanceReady retryOf(ForgetSetJob job, ForgetSetLedger.SetRecord set, RetryDirection direction)
            throws IOException, JobFailure {
        Optional<Holding> importance = stores.ledger().holdings(job.forgetSetId(), Role.IMPORTANCE).stream()
                .filter(h -> stores.artifacts().exists(h.ref())).findFirst();
        if (importance.isEmpty()) {
            throw JobFailure.because(AuditReason.of("the importance artifact is gone: the forget set cannot be "
                    + "retried"), null);
        }
        Holding h = importance.get();
        return ImportanceReady.newBuilder()
                .setForgetSetId(job.forgetSetId())
                .setModelId(job.modelId())
                .setBaseModelVersion(job.baseModelVersion())
                .setImportance(h.ref())
                .setForgetSet(set.forgetSet())
                .setRequestIds(job.requestIds())
                .setForgetTokenCount(Long.parseLong(h.attribute("forgetTokens").orElse("0")))
                .setRetainTokenCount(Long.parseLong(h.attribute("retainTokens").orElse("0")))
                .setAttempt(job.attempt() + 1)
                .setRetryDirection(direction)
                .setCreatedAt(clock.instant())
                .build();
    }

    /** Why a candidate failed, in numbers. */
    static AuditReason reasonFor(dev.loku.core.metrics.Verdict rule, double tolerance, double generalTolerance) {
        List<String> parts = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        if (!(rule.forgetMa() < rule.thresholds().ma())) {
            parts.add("forget MA %.4f >= threshold %.4f");
            args.add(rule.forgetMa());
            args.add(rule.thresholds().ma());
        }
        if (!(rule.forgetEl() < rule.thresholds().el())) {
            parts.add("forget EL_10 %.4f >= threshold %.4f");
            args.add(rule.forgetEl());
            args.add(rule.thresholds().el());
        }
        if (!rule.retainKept()) {
            parts.add("retain MA fell from %.4f to %.4f, more than the tolerance %.4f");
            args.add(rule.retainMaBefore());
            args.add(rule.retainMaAfter());
            args.add(tolerance);
        }
        if (!rule.generalKept()) {
            parts.add("general-text NLL rose from %.4f to %.4f, more than the tolerance %.4f");
            args.add(rule.generalNllBefore());
            args.add(rule.generalNllAfter());
            args.add(generalTolerance);
        }
        return AuditReason.format(String.join("; ", parts), args.toArray());
    }

    /** The scores as the event carries them. */
    static EvaluationMetrics avro(EvaluationReport m) {
        return new EvaluationMetrics(m.forget().ma(), m.forget().el10(), m.retain().ma(), m.retain().nll(),
                m.unseen().ma(), m.unseen().el10(), Double.isNaN(m.generalNll()) ? null : m.generalNll());
    }

    /** The job's forget set with the model's retain, unseen and general-text data. */
    private static RecordSets sets(CatalogueModel model, Path forget) {
        return new RecordSets(forget, model.retainData(), model.unseenData(), model.generalData());
    }
}
