package dev.loku.fisher;

import dev.loku.events.ArtifactRef;
import dev.loku.events.AuditStatus;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ImportanceReady;
import dev.loku.events.PipelineStage;
import dev.loku.runtime.artifact.ArtifactNotFoundException;
import dev.loku.runtime.artifact.CorruptArtifactException;
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
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
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
 *   <li>The base version is resolved, the forget set read (verified) into the job's scratch folder, and the
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

        CatalogueModel model = stores.catalogue().find(job.modelId()).orElseThrow(() -> JobFailure.because(
                AuditReason.of("model is not in the Fisher service's model catalogue"), null));
        UnlearningProfile profile = profileFor(model, job.attempt());
        Path base = resolveBase(job);
        long started = System.nanoTime();
        try (JobWorkDir work = JobWorkDir.create(config.workDir().resolve(config.common().instanceId()), job.jobId())) {
            byte[] forgetSet = readForgetSet(in.getForgetSet());
            List<ArtifactRef> contents = ForgetSetLedger.memberContentRefs(forgetSet,
                    ForgetSetLedger.SetRecord.of(in).members());
            if (contents.isEmpty()) {
                LOG.warn("event=member_contents_unknown forget_set_id={} cause=layout_mismatch", job.forgetSetId());
            }
            for (ArtifactRef c : contents) {
                ledger.hold(job.forgetSetId(), new Holding(Role.REQUEST_CONTENT, c, Map.of()));
            }
            Path forgetFile = Files.write(work.resolve("forget-set.jsonl"), forgetSet);
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
            ledger.hold(job.forgetSetId(), new Holding(Role.IMPORTANCE, refOf(file), Map.of(
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
        return finalFailure.outputs(job, PipelineStage.IMPORTANCE, error, raw);
    }

    static UnlearningProfile profileFor(CatalogueModel model, int attempt) throws JobFailure {
        if (attempt < 1 || attempt > model.profile().maxAttempts()) {
            throw JobFailure.because(AuditReason.format("attempt %d is outside 1..%d", attempt,
                    model.profile().maxAttempts()), null);
        }
        return model.profile().forAttempt(attempt);
    }

    private Path resolveBase(ForgetSetJob job) throws JobFailure, IOException {
        try {
            return stores.versions().resolve(job.modelId(), job.baseModelVersion());
        } catch (IllegalArgumentException e) {
            throw JobFailure.because(AuditReason.format("base model version %s is not published",
                    JobFailure.idOf(job.baseModelVersion())), e);
        } catch (CorruptArtifactException | ArtifactNotFoundException e) {
            throw JobFailure.because(AuditReason.format("base model version %s is missing or corrupt in the "
                    + "artifact store", JobFailure.idOf(job.baseModelVersion())), e);
        }
    }

    private byte[] readForgetSet(ArtifactRef ref) throws JobFailure, IOException {
        try {
            return stores.artifacts().read(ref);
        } catch (ArtifactNotFoundException e) {
            throw JobFailure.because(AuditReason.of("the forget-set artifact is missing"), e);
        } catch (CorruptArtifactException e) {
            throw JobFailure.because(AuditReason.of("the forget-set artifact is corrupt"), e);
        }
    }

    /** The ref the store will give {@code file}, computed before storing it. */
    static ArtifactRef refOf(Path file) throws IOException {
        MessageDigest sha = Sha256.digest();
        long size;
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            size = in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        String hex = HexFormat.of().formatHex(sha.digest());
        return new ArtifactRef("sha256:" + hex, hex, size);
    }
}
