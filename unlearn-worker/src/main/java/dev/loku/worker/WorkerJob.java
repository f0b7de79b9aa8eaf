package dev.loku.worker;

import dev.loku.core.engine.RecordSets;
import dev.loku.events.ArtifactRef;
import dev.loku.events.AuditStatus;
import dev.loku.events.EpochMetrics;
import dev.loku.events.ImportanceReady;
import dev.loku.events.RetryDirection;
import dev.loku.events.JobPhase;
import dev.loku.events.JobProgress;
import dev.loku.events.PipelineStage;
import dev.loku.events.UnlearnCompleted;
import dev.loku.runtime.artifact.ArtifactNotFoundException;
import dev.loku.runtime.artifact.CorruptArtifactException;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ForgetSetLedger.Holding;
import dev.loku.runtime.artifact.ForgetSetLedger.Role;
import dev.loku.runtime.artifact.Sha256;
import dev.loku.runtime.artifact.TreeManifest;
import dev.loku.runtime.audit.AuditEmitter;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's work for one ImportanceReady (docs/pipeline.md, stage 3), free of Kafka plumbing: the
 * {@link WorkerService}'s runner calls {@link #run} and commits what it returns with the input's offset.
 * <ol>
 *   <li>A set already closed is a stale repeat: ignored.</li>
 *   <li>The job's ids follow from the event ({@code PipelineIds}): job id and candidate version. If that version
 *       is already published, an earlier delivery of this very job trained it: the candidate is announced from its
 *       {@link CandidateRunRecord} without training again.</li>
 *   <li>Otherwise: UNLEARNING per request and a first JobProgress go out at once, outside the transaction (a
 *       transaction would hide them until the job ends, which is the whole point of sending them); a re-run sends
 *       UNLEARNING again with the same event id. The forget set and the importance are copied (verified) into the
 *       job's scratch folder and the {@link UnlearningRunner} trains with the profile for this attempt
 *       ({@code UnlearningProfile.forAttempt}, epochs capped by {@code worker.max.epochs.cap}), each epoch
 *       published as JobProgress.</li>
 *   <li>The adapter is stored (tree), the run record written into the model folder, the folder published as the
 *       candidate version, both held in the {@link ForgetSetLedger}; then UnlearnCompleted and UNLEARNED per
 *       request.</li>
 * </ol>
 * A failure ({@link #onFailure}) closes the set: FAILED per request, dead letter, final FAIL verdict. Retrying a
 * broken run with a stronger profile would not mend it; the eval service retries only verdicts.
 */
public final class WorkerJob {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerJob.class);

    private final WorkerConfig config;
    private final PipelineStores stores;
    private final UnlearningRunner runner;
    private final StageAudit audit;
    private final FinalFailure finalFailure;
    private final Consumer<TopicRecord<?, ?>> heartbeats;
    private final ServiceMetrics metrics;
    private final Clock clock;

    /** @param heartbeats sends records at once, outside the job's transaction (JobProgress, UNLEARNING) */
    public WorkerJob(WorkerConfig config, PipelineStores stores, UnlearningRunner runner, StageAudit audit,
                     FinalFailure finalFailure, Consumer<TopicRecord<?, ?>> heartbeats, ServiceMetrics metrics,
                     Clock clock) {
        this.config = config;
        this.stores = stores;
        this.runner = runner;
        this.audit = audit;
        this.finalFailure = finalFailure;
        this.heartbeats = heartbeats;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** The records to publish for {@code in}. */
    public List<TopicRecord<?, ?>> run(ImportanceReady in) throws Exception {
        ForgetSetJob job = withMembers(ForgetSetJob.of(in));
        sweepCheckpoints(checkpointDir(job));
        ForgetSetLedger ledger = stores.ledger();
        if (ledger.isClosed(job.forgetSetId())) {
            metrics.duplicate();
            LOG.info("event=duplicate_ignored service=worker forget_set_id={} attempt={} cause=set_closed",
                    job.forgetSetId(), job.attempt());
            deleteCheckpoints(job);
            return List.of();
        }
        CatalogueModel model = stores.model(job);
        RetryDirection direction = in.getRetryDirection() == null ? RetryDirection.STRONGER : in.getRetryDirection();
        UnlearningProfile profile = capped(job.profileIn(model, direction));
        String candidate = job.candidateVersion();

        Optional<ArtifactRef> published = stores.versions().ref(job.modelId(), candidate);
        if (published.isPresent()) {
            LOG.info("event=job_resumed forget_set_id={} job_id={} candidate_version={} cause=already_published",
                    job.forgetSetId(), job.jobId(), candidate);
            deleteCheckpoints(job);
            return announce(job, published.get());
        }

        audit.events(job, PipelineStage.UNLEARNING, AuditStatus.UNLEARNING, null, null)
                .forEach(e -> heartbeats.accept(AuditEmitter.topicRecord(e)));
        progress(job, JobPhase.TRAINING, 0, profile.maxEpochs(), null);
        Path base = stores.base(job);
        long started = System.nanoTime();
        try (JobWorkDir work = JobWorkDir.create(config.workDir().resolve(config.common().instanceId()), job.jobId())) {
            Path forgetSet = stores.copyForgetSet(in.getForgetSet(), work.resolve("forget-set.jsonl"));
            Path importance = stores.copy(in.getImportance(), work.resolve("importance.safetensors"), "importance");
            Path out = Files.createDirectories(work.resolve("run"));
            LOG.info("event=unlearning_started forget_set_id={} job_id={} model={} base_version={} attempt={} "
                            + "objective={} lora_rank={} learning_rate={} max_epochs={}", job.forgetSetId(), job.jobId(),
                    job.modelId(), job.baseModelVersion(), job.attempt(), profile.method(), profile.loraRank(),
                    profile.learningRate(), profile.maxEpochs());
            UnlearningRunner.UnlearningOutcome outcome = runner.run(new UnlearningRunner.UnlearningJob(base,
                    new RecordSets(forgetSet, model.retainData(), model.unseenData()), importance, profile,
                    config.seed(), out, checkpointDir(job)),
                    new UnlearningRunner.ProgressListener() {
                        @Override
                        public void epochFinished(UnlearningRunner.EpochOutcome epoch) {
                            metrics.unlearningEpoch(epoch.seconds());
                            progress(job, JobPhase.TRAINING, epoch.epoch(), profile.maxEpochs(), metrics(epoch));
                        }

                        @Override
                        public void adapterInitialized(String initialization, double seconds) {
                            metrics.adapterInitialized(initialization, seconds);
                        }
                    });
            Path modelDir = inside(out, outcome.modelDir(), "model");
            Path adapterDir = inside(out, outcome.adapterDir(), "adapter");

            ArtifactRef adapter = stores.artifacts().putTree(adapterDir);
            ledger.hold(job.forgetSetId(), new Holding(Role.CANDIDATE_ADAPTER, adapter, attrs(job, candidate)));
            Map<String, String> hyperparameters = new LinkedHashMap<>(profile.asHyperparameters());
            hyperparameters.putAll(outcome.hyperparameters());
            hyperparameters.put("max_epochs_cap", Integer.toString(config.maxEpochsCap()));
            hyperparameters.put("attempt", Integer.toString(job.attempt()));
            hyperparameters.put("retry_direction", direction.name());
            CandidateRunRecord record = new CandidateRunRecord(job.jobId(), outcome.objective(),
                    outcome.initialization(), hyperparameters, config.seed(),
                    outcome.epochs().stream().map(WorkerJob::metrics).toList(), outcome.stoppedAtEpoch(),
                    outcome.reachedThreshold(), adapter, clock.instant());
            Files.write(modelDir.resolve(CandidateRunRecord.FILE_NAME), record.toJson());
            ArtifactRef modelRef;
            try {
                modelRef = stores.versions().publish(job.modelId(), candidate, modelDir);
            } catch (IllegalStateException e) {
                // Versions are immutable: another delivery of this job (a zombie, or a run that died before its
                // commit) published first with other bytes. Its run is the candidate; ours is dropped.
                Optional<ArtifactRef> first = stores.versions().ref(job.modelId(), candidate);
                if (first.isEmpty()) {
                    throw e;
                }
                LOG.info("event=candidate_published_first forget_set_id={} job_id={} candidate_version={}",
                        job.forgetSetId(), job.jobId(), candidate);
                List<TopicRecord<?, ?>> outputs = announce(job, first.get());
                dropUnlessShared(adapter, first.get());
                deleteCheckpoints(job);
                return outputs;
            }
            LOG.info("event=unlearning_finished forget_set_id={} job_id={} candidate_version={} epochs={} "
                            + "reached_threshold={} seconds={}", job.forgetSetId(), job.jobId(), candidate,
                    outcome.stoppedAtEpoch(), outcome.reachedThreshold(),
                    String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9));
            List<TopicRecord<?, ?>> outputs = announce(job, modelRef);
            deleteCheckpoints(job);
            return outputs;
        }
    }

    /** Closes the set as FAILED at the UNLEARNING stage. */
    public List<TopicRecord<?, ?>> onFailure(ImportanceReady in, ConsumerRecord<byte[], byte[]> raw, Exception error) {
        ForgetSetJob job = ForgetSetJob.of(in);
        try {
            job = withMembers(job);
        } catch (IOException e) {
            // the audit events go out without tenant and content hash
        }
        LOG.warn("event=forget_set_failed service=worker forget_set_id={} model={} attempt={} reason=\"{}\"",
                job.forgetSetId(), job.modelId(), job.attempt(), JobFailure.reasonOf(error).text());
        progress(job, JobPhase.FAILED, 0, 0, null);
        deleteCheckpoints(job);
        return finalFailure.outputsUnlessClosed(stores.ledger(), job, PipelineStage.UNLEARNING, error, raw);
    }

    /**
     * The job's epoch checkpoints: one folder per job id (the set and its attempt) under
     * {@code worker.epoch.checkpoint.dir}, so a later delivery of the same job, here or on another worker that
     * mounts the folder, resumes after the last epoch saved there.
     */
    private Path checkpointDir(ForgetSetJob job) {
        return config.epochCheckpointDir().resolve(job.jobId().toString());
    }

    /**
     * Deletes the checkpoint folders of jobs no worker will finish ({@link EpochCheckpointSweep}), except
     * {@code keep} (the job about to run, null for none).
     */
    void sweepCheckpoints(Path keep) {
        EpochCheckpointSweep.sweep(config.epochCheckpointDir(), config.epochCheckpointRetention(), clock.instant(),
                keep);
    }

    /**
     * Deletes the job's epoch checkpoints: the job has ended (its candidate published, or the set failed or closed),
     * and they are derived from the forget set. A folder that cannot be deleted is logged, not fatal: the job's
     * outcome is already decided.
     */
    private void deleteCheckpoints(ForgetSetJob job) {
        Path dir = checkpointDir(job);
        try {
            JobWorkDir.deleteRecursively(dir);
        } catch (IOException e) {
            LOG.error("event=epoch_checkpoints_not_deleted forget_set_id={} job_id={} path={} error={}",
                    job.forgetSetId(), job.jobId(), dir, e.getClass().getSimpleName());
        }
    }

    /** UnlearnCompleted and UNLEARNED for the candidate published as {@code modelRef}, from its run record. */
    private List<TopicRecord<?, ?>> announce(ForgetSetJob job, ArtifactRef modelRef) throws IOException, JobFailure {
        CandidateRunRecord record = readRecord(modelRef);
        String candidate = job.candidateVersion();
        stores.ledger().hold(job.forgetSetId(), new Holding(Role.CANDIDATE_MODEL, modelRef, attrs(job, candidate)));
        stores.ledger().hold(job.forgetSetId(), new Holding(Role.CANDIDATE_ADAPTER, record.adapter(), attrs(job, candidate)));
        UnlearnCompleted done = UnlearnCompleted.newBuilder()
                .setForgetSetId(job.forgetSetId())
                .setModelId(job.modelId())
                .setBaseModelVersion(job.baseModelVersion())
                .setCandidateVersion(candidate)
                .setAdapter(record.adapter())
                .setModel(modelRef)
                .setObjective(record.objective())
                .setInitialization(record.initialization())
                .setHyperparameters(record.hyperparameters())
                .setSeed(record.seed())
                .setEpochs(record.epochs())
                .setStoppedAtEpoch(record.stoppedAtEpoch())
                .setReachedThreshold(record.reachedThreshold())
                .setRequestIds(job.requestIds())
                .setAttempt(job.attempt())
                .setJobId(job.jobId())
                .setCompletedAt(record.completedAt())
                .build();
        progress(job, JobPhase.DONE, record.stoppedAtEpoch(), record.stoppedAtEpoch(),
                record.epochs().isEmpty() ? null : record.epochs().get(record.epochs().size() - 1));
        List<TopicRecord<?, ?>> outputs = new ArrayList<>();
        outputs.add(TopicRecord.of(Topics.CANDIDATES, job.modelId(), done));
        outputs.addAll(audit.forEachRequest(job, PipelineStage.UNLEARNING, AuditStatus.UNLEARNED, candidate, null));
        return outputs;
    }

    private CandidateRunRecord readRecord(ArtifactRef modelRef) throws IOException, JobFailure {
        try {
            TreeManifest manifest = stores.artifacts().manifest(modelRef);
            TreeManifest.Entry entry = manifest.files().stream()
                    .filter(e -> e.path().equals(CandidateRunRecord.FILE_NAME)).findFirst()
                    .orElseThrow(() -> JobFailure.because(AuditReason.of("the published candidate has no run record"),
                            null));
            return CandidateRunRecord.parse(stores.artifacts().read(
                    Sha256.ref(entry.sha256(), entry.sizeBytes())));
        } catch (ArtifactNotFoundException | CorruptArtifactException e) {
            throw JobFailure.because(AuditReason.of("the published candidate is missing or corrupt"), e);
        }
    }

    private void dropUnlessShared(ArtifactRef ourAdapter, ArtifactRef publishedModel) throws IOException, JobFailure {
        if (!readRecord(publishedModel).adapter().getSha256().equals(ourAdapter.getSha256())) {
            stores.artifacts().deleteTree(ourAdapter);
        }
    }

    private ForgetSetJob withMembers(ForgetSetJob job) throws IOException {
        return stores.ledger().set(job.forgetSetId()).map(job::withMembers).orElse(job);
    }

    /** The attempt's profile with its epochs capped by {@code worker.max.epochs.cap}. */
    private UnlearningProfile capped(UnlearningProfile a) {
        if (a.maxEpochs() <= config.maxEpochsCap()) {
            return a;
        }
        return new UnlearningProfile(a.method(), a.initialization(), a.loraRank(), a.learningRate(),
                config.maxEpochsCap(), a.retainTolerance(), a.generalTolerance(), a.maxAttempts(), a.retry());
    }

    private static Path inside(Path out, Path dir, String what) throws JobFailure {
        Path d = dir.toAbsolutePath().normalize();
        if (!d.startsWith(out) || !Files.isDirectory(d)) {
            throw JobFailure.because(AuditReason.format("the unlearning runner wrote no %s folder in its work folder",
                    AuditReason.id(what)), null);
        }
        return d;
    }

    private static Map<String, String> attrs(ForgetSetJob job, String candidate) {
        return Map.of("version", candidate, "attempt", Integer.toString(job.attempt()), "jobId", job.jobId().toString());
    }

    private static EpochMetrics metrics(UnlearningRunner.EpochOutcome e) {
        return new EpochMetrics(e.epoch(), e.loss(), e.forgetMa(), e.forgetEl10(), e.retainMa(), e.retainNll(),
                e.seconds());
    }

    private void progress(ForgetSetJob job, JobPhase phase, int epoch, int maxEpochs, EpochMetrics m) {
        JobProgress p = JobProgress.newBuilder()
                .setJobId(job.jobId())
                .setForgetSetId(job.forgetSetId())
                .setModelId(job.modelId())
                .setAttempt(job.attempt())
                .setPhase(phase)
                .setEpoch(epoch)
                .setMaxEpochs(maxEpochs)
                .setLoss(m == null ? null : m.getLoss())
                .setMetrics(m)
                .setAt(clock.instant())
                .build();
        heartbeats.accept(TopicRecord.of(Topics.PROGRESS, job.forgetSetId().toString(), p));
    }
}
