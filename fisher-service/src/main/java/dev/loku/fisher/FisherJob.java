package dev.loku.fisher;

import dev.loku.events.ArtifactRef;
import dev.loku.events.AuditStatus;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ImportanceReady;
import dev.loku.events.PipelineStage;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ForgetSetLedger.Holding;
import dev.loku.runtime.artifact.ForgetSetLedger.Role;
import dev.loku.runtime.artifact.Sha256;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Fisher service's work for one ForgetSetReady (docs/pipeline.md, stage 2), free of Kafka plumbing: the
 * {@link FisherService}'s runner calls {@link #run} and commits what it returns with the input's offset.
 * <ol>
 *   <li>A set already closed (purged after its final verdict) is a stale repeat: ignored.</li>
 *   <li>The set is recorded in the {@link ForgetSetLedger}, with its forget-set artifact and its members' content
 *       artifacts, before anything can fail, so the purge finds them whatever happens next.</li>
 *   <li>The base version is resolved, the forget set read (verified), opened under its members' data keys into the
 *       job's scratch folder, and the
 *       {@link ImportanceEstimator} run on it and on the catalogue model's retain data.</li>
 *   <li>The importance file is held in the ledger, stored (blob), and announced: ImportanceReady (same attempt) and
 *       IMPORTANCE_READY per request.</li>
 * </ol>
 * A failure ({@link #onFailure}) closes the set: FAILED per request, dead letter, final FAIL verdict.
 */
public final class FisherJob {

    private static final Logger LOG = LoggerFactory.getLogger(FisherJob.class);

    private final FisherConfig config;
    private final PipelineStores stores;
    private final ImportanceEstimator estimator;
    private final StageAudit audit;
    private final FinalFailure finalFailure;
    private final ServiceMetrics metrics;
    private final Clock clock;

    public FisherJob(FisherConfig config, PipelineStores stores, ImportanceEstimator estimator, StageAudit audit,
                     FinalFailure finalFailure, ServiceMetrics metrics, Clock clock) {
        this.config = config;
        this.stores = stores;
        this.estimator = estimator;
        this.audit = audit;
        this.finalFailure = finalFailure;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** The records to publish for {@code in}. */
    public List<TopicRecord<?, ?>> run(ForgetSetReady in) throws Exception {
        ForgetSetJob job = ForgetSetJob.of(in);
        ForgetSetLedger ledger = stores.ledger();
        if (ledger.isClosed(job.forgetSetId())) {
            metrics.duplicate();
            LOG.info("event=duplicate_ignored service=fisher forget_set_id={} attempt={} cause=set_closed",
                    job.forgetSetId(), job.attempt());
            return List.of();
        }
        ledger.recordSet(ForgetSetLedger.SetRecord.of(in));
        ledger.hold(job.forgetSetId(), new Holding(Role.FORGET_SET, in.getForgetSet(), Map.of()));

        CatalogueModel model = stores.model(job);
        UnlearningProfile profile = job.profileIn(model);
        Path base = stores.base(job);
        long started = System.nanoTime();
        try (JobWorkDir work = JobWorkDir.create(config.workDir().resolve(config.common().instanceId()), job.jobId())) {
            byte[] forgetSet = stores.readForgetSet(in.getForgetSet());
            List<ArtifactRef> contents = ForgetSetLedger.memberContentRefs(forgetSet,
                    ForgetSetLedger.SetRecord.of(in).members());
            if (contents.isEmpty()) {
                LOG.warn("event=member_contents_unknown forget_set_id={} cause=layout_mismatch", job.forgetSetId());
            }
            for (ArtifactRef c : contents) {
                ledger.hold(job.forgetSetId(), new Holding(Role.REQUEST_CONTENT, c, Map.of()));
            }
            // Opened under the members' data keys into the job's scratch folder only (deleted when the job ends).
            Path forgetFile = Files.write(work.resolve("forget-set.jsonl"), stores.openForgetSet(forgetSet));
            Path out = Files.createDirectories(work.resolve("estimator"));
            LOG.info("event=importance_started forget_set_id={} model={} base_version={} attempt={} requests={}",
                    job.forgetSetId(), job.modelId(), job.baseModelVersion(), job.attempt(), job.requestIds().size());
            long passStart = System.nanoTime();
            ImportanceEstimator.ImportanceOutcome outcome = estimator.estimate(new ImportanceEstimator.ImportanceJob(
                    base, forgetFile, model.retainData(), config.seed(), profile, out));
            metrics.fisherPass((System.nanoTime() - passStart) / 1e9, outcome.forgetTokens() + outcome.retainTokens());
            Path file = outcome.safetensorsFile().toAbsolutePath().normalize();
            if (!file.startsWith(out) || !Files.isRegularFile(file)) {
                throw JobFailure.because(AuditReason.of("the importance estimator wrote no file in its work folder"),
                        null);
            }
            // Held before it is stored: a crash in between leaves a ledger entry for a blob that may not exist
            // (harmless to delete), never a blob the purge cannot find.
            ledger.hold(job.forgetSetId(), new Holding(Role.IMPORTANCE, Sha256.refOf(file), Map.of(
                    "forgetTokens", Long.toString(outcome.forgetTokens()),
                    "retainTokens", Long.toString(outcome.retainTokens()))));
            ArtifactRef importance = stores.artifacts().putFile(file);
            ledger.hold(job.forgetSetId(), new Holding(Role.IMPORTANCE, importance, Map.of(
                    "forgetTokens", Long.toString(outcome.forgetTokens()),
                    "retainTokens", Long.toString(outcome.retainTokens())))); // the same entry, now with the store's URI
            ImportanceReady ready = ImportanceReady.newBuilder()
                    .setForgetSetId(job.forgetSetId())
                    .setModelId(job.modelId())
                    .setBaseModelVersion(job.baseModelVersion())
                    .setImportance(importance)
                    .setForgetSet(in.getForgetSet())
                    .setRequestIds(job.requestIds())
                    .setForgetTokenCount(outcome.forgetTokens())
                    .setRetainTokenCount(outcome.retainTokens())
                    .setAttempt(job.attempt())
                    .setCreatedAt(clock.instant())
                    .build();
            LOG.info("event=importance_ready forget_set_id={} model={} attempt={} artifact={} forget_tokens={} "
                            + "retain_tokens={} seconds={}", job.forgetSetId(), job.modelId(), job.attempt(),
                    importance.getSha256(), outcome.forgetTokens(), outcome.retainTokens(),
                    String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9));
            List<TopicRecord<?, ?>> outputs = new ArrayList<>();
            outputs.add(TopicRecord.of(Topics.IMPORTANCE, job.modelId(), ready));
            outputs.addAll(audit.forEachRequest(job.withMembers(ForgetSetLedger.SetRecord.of(in)),
                    PipelineStage.IMPORTANCE, AuditStatus.IMPORTANCE_READY, job.baseModelVersion(), null));
            return outputs;
        }
    }

    /** Closes the set as FAILED at the IMPORTANCE stage. */
    public List<TopicRecord<?, ?>> onFailure(ForgetSetReady in, ConsumerRecord<byte[], byte[]> raw, Exception error) {
        ForgetSetJob job = ForgetSetJob.of(in);
        LOG.warn("event=forget_set_failed service=fisher forget_set_id={} model={} attempt={} reason=\"{}\"",
                job.forgetSetId(), job.modelId(), job.attempt(), JobFailure.reasonOf(error).text());
        return finalFailure.outputsUnlessClosed(stores.ledger(), job, PipelineStage.IMPORTANCE, error, raw);
    }
}
