package dev.loku.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.io.SafetensorsFile;
import dev.loku.events.AdapterInitialization;
import dev.loku.events.ArtifactRef;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.DeadLetter;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ImportanceReady;
import dev.loku.events.RetryDirection;
import dev.loku.runtime.catalogue.UnlearningProfile;
import dev.loku.events.JobPhase;
import dev.loku.events.JobProgress;
import dev.loku.events.PipelineStage;
import dev.loku.events.UnlearnCompleted;
import dev.loku.events.UnlearningObjective;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ForgetSetLedger.Role;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.job.FinalFailure;
import dev.loku.runtime.job.JobFailure;
import dev.loku.runtime.job.StageAudit;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.testing.PipelineFixtures;
import dev.loku.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker job's logic with a fake unlearning runner (the engine boundary) and real stores. */
class WorkerJobTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    private PipelineFixtures fx;
    private WorkerConfig config;
    private final ServiceMetrics metrics = new ServiceMetrics("worker");
    private final List<TopicRecord<?, ?>> heartbeats = new CopyOnWriteArrayList<>();
    private final AtomicInteger runs = new AtomicInteger();
    private final AtomicReference<UnlearningRunner.UnlearningJob> seen = new AtomicReference<>();

    @BeforeEach
    void setUp() {
        fx = PipelineFixtures.create(dir.resolve("pipeline"), null, 2, "m");
        Map<String, String> settings = fx.commonSettings("t1");
        settings.put("worker.work.dir", dir.resolve("work").toString());
        settings.put("worker.seed", "99");
        settings.put("worker.max.epochs.cap", "4");
        config = WorkerConfig.of(settings);
    }

    /** Trains nothing: writes a model and an adapter folder and reports two epochs, the second under threshold. */
    private UnlearningRunner fake(String weights) {
        return (job, progress) -> {
            runs.incrementAndGet();
            seen.set(job);
            try (SafetensorsFile f = SafetensorsFile.open(job.importanceFile())) {
                assertArrayEquals(new float[] {1f}, f.readFloats("fisher"), "the importance arrives intact");
            }
            Path model = Files.createDirectories(job.workDir().resolve("model"));
            Files.writeString(model.resolve("config.json"), "{\"model_type\":\"llama\"}");
            PipelineFixtures.tinySafetensors(model.resolve("model.safetensors"), "w", Float.parseFloat(weights));
            Path adapter = Files.createDirectories(job.workDir().resolve("adapter"));
            Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\":" + job.profile().loraRank() + "}");
            PipelineFixtures.tinySafetensors(adapter.resolve("adapter_model.safetensors"), "lora_A", Float.parseFloat(weights));
            List<UnlearningRunner.EpochOutcome> epochs = List.of(
                    new UnlearningRunner.EpochOutcome(1, 2.5, 0.9, 0.4, 0.8, 1.9, 0.1),
                    new UnlearningRunner.EpochOutcome(2, 1.5, 0.1, 0.01, null, null, 0.1));
            epochs.forEach(progress::epochFinished);
            return new UnlearningRunner.UnlearningOutcome(model, adapter, epochs, 2, true, Map.of("lora_alpha", "8"),
                    UnlearningObjective.INVERTED_HINGE_LOSS, AdapterInitialization.FILA);
        };
    }

    private WorkerJob job(UnlearningRunner runner) {
        return job(runner, config);
    }

    private WorkerJob job(UnlearningRunner runner, WorkerConfig config) {
        StageAudit audit = new StageAudit(new AuditEmitter("unlearn-worker/t1", CLOCK, metrics));
        return new WorkerJob(config, fx.stores(), runner, audit,
                new FinalFailure(audit, new DeadLetterPublisher("unlearn-worker/t1", CLOCK, metrics), CLOCK),
                heartbeats::add, metrics, CLOCK);
    }

    /** What the Fisher service would have published for a fresh set (and recorded in the ledger). */
    private ImportanceReady importance(int attempt) throws Exception {
        ForgetSetReady set = fx.forgetSet("m", 2);
        fx.stores().ledger().recordSet(ForgetSetLedger.SetRecord.of(set));
        ArtifactRef importance = fx.artifacts().putFile(PipelineFixtures.tinySafetensors(dir.resolve("i.safetensors"),
                "fisher", 1f));
        return ImportanceReady.newBuilder()
                .setForgetSetId(set.getForgetSetId()).setModelId("m").setBaseModelVersion("v0")
                .setImportance(importance).setForgetSet(set.getForgetSet())
                .setRequestIds(set.getMembers().stream().map(x -> x.getRequestId()).toList())
                .setForgetTokenCount(10).setRetainTokenCount(10).setAttempt(attempt).setCreatedAt(CLOCK.instant())
                .build();
    }

    @Test
    void aGentlerRetryTrainsWithALowerRateAndFewerEpochsThanTheAttemptBeforeIt() throws Exception {
        // Attempt 1 of the profile: lr 0.001, 3 epochs, rank 4. The eval service sends attempt 2 GENTLER after the
        // retain or general guard failed.
        ImportanceReady in = importance(2);
        in.setRetryDirection(RetryDirection.GENTLER);
        UnlearnCompleted done = only(job(fake("0.25")).run(in), UnlearnCompleted.class);
        UnlearningProfile first = fx.stores().catalogue().require("m").profile().forAttempt(1);
        assertTrue(seen.get().profile().learningRate() < first.learningRate(), "lower rate than attempt 1");
        assertEquals(0.0005, seen.get().profile().learningRate(), 1e-12, "0.001 / 2.0");
        assertEquals(2, seen.get().profile().maxEpochs(), "3 / 1.5 epochs");
        assertEquals(first.loraRank(), seen.get().profile().loraRank(), "a gentler retry keeps the rank");
        assertEquals("GENTLER", done.getHyperparameters().get("retry_direction"));
        // An event without the field (written before it existed) reads STRONGER: the rate doubles as before.
        assertEquals(RetryDirection.STRONGER, importance(2).getRetryDirection());
    }

    @Test
    void aJobPublishesItsCandidateAndAnnouncesItWithEpochsHyperparametersAndSeed() throws Exception {
        ImportanceReady in = importance(2);
        List<TopicRecord<?, ?>> out = job(fake("0.25")).run(in);

        UnlearnCompleted done = only(out, UnlearnCompleted.class);
        String jobId = PipelineIds.jobId(in.getForgetSetId(), 2, "v0").toString();
        assertEquals(jobId, done.getJobId().toString());
        assertEquals(PipelineIds.candidateVersion("v0", done.getJobId()), done.getCandidateVersion());
        assertEquals(2, done.getAttempt());
        assertEquals(99, done.getSeed());
        assertEquals(2, done.getEpochs().size());
        assertEquals(null, done.getEpochs().get(1).getRetainMa(), "a skipped retain evaluation stays null");
        assertTrue(done.getReachedThreshold());
        assertEquals(UnlearningObjective.INVERTED_HINGE_LOSS, done.getObjective());
        assertEquals(Topics.CANDIDATES.name(), out.get(0).topicName());
        // Attempt 2 of (lr 0.001, 3 epochs, rank 4) with the default retry factors (2.0, 1.5, 1.0), epochs capped at 4.
        assertEquals("0.002", done.getHyperparameters().get("learning_rate"));
        assertEquals("4", done.getHyperparameters().get("max_epochs"));
        assertEquals("4", done.getHyperparameters().get("lora_rank"));
        assertEquals("8", done.getHyperparameters().get("lora_alpha"), "the engine's own settings are recorded too");
        assertEquals(4, seen.get().profile().maxEpochs());
        assertEquals(fx.stores().catalogue().require("m").unseenData(), seen.get().sets().unseen());

        Path published = fx.stores().versions().resolve("m", done.getCandidateVersion());
        assertTrue(Files.isRegularFile(published.resolve(CandidateRunRecord.FILE_NAME)));
        assertEquals(done.getModel(), fx.stores().versions().ref("m", done.getCandidateVersion()).orElseThrow());
        assertEquals("{\"r\":4}", new String(fx.artifacts().read(new ArtifactRef("x",
                fx.artifacts().manifest(done.getAdapter()).files().get(0).sha256(),
                fx.artifacts().manifest(done.getAdapter()).files().get(0).sizeBytes()))));
        ForgetSetLedger ledger = fx.stores().ledger();
        assertEquals(List.of(done.getModel()), ledger.holdings(in.getForgetSetId(), Role.CANDIDATE_MODEL).stream()
                .map(h -> h.ref()).toList());
        assertEquals(List.of(done.getAdapter().getSha256()), ledger.holdings(in.getForgetSetId(), Role.CANDIDATE_ADAPTER)
                .stream().map(h -> h.ref().getSha256()).toList());
        assertFalse(Files.exists(seen.get().workDir().getParent()), "the scratch folder is deleted");

        List<AuditEvent> audits = all(out, AuditEvent.class);
        assertEquals(2, audits.size());
        audits.forEach(e -> {
            assertEquals(AuditStatus.UNLEARNED, e.getStatus());
            assertEquals(done.getCandidateVersion(), e.getModelVersion());
            assertEquals("acme", e.getTenantId(), "members come from the ledger");
        });
        // Sent at once, outside the transaction: UNLEARNING per request, then progress per epoch, then DONE.
        assertEquals(List.of(AuditStatus.UNLEARNING, AuditStatus.UNLEARNING), all(heartbeats, AuditEvent.class).stream()
                .map(AuditEvent::getStatus).toList());
        List<JobProgress> progress = all(heartbeats, JobProgress.class);
        assertEquals(List.of(JobPhase.TRAINING, JobPhase.TRAINING, JobPhase.TRAINING, JobPhase.DONE),
                progress.stream().map(JobProgress::getPhase).toList());
        assertEquals(List.of(0, 1, 2, 2), progress.stream().map(JobProgress::getEpoch).toList());
        assertEquals(2.5, progress.get(1).getLoss());
    }

    @Test
    void aRedeliveredJobAnnouncesThePublishedCandidateWithoutTrainingAgain() throws Exception {
        ImportanceReady in = importance(1);
        List<TopicRecord<?, ?>> first = job(fake("0.25")).run(in);
        List<TopicRecord<?, ?>> again = job(fake("0.75")).run(in);
        assertEquals(1, runs.get(), "trained once");
        assertEquals(only(first, UnlearnCompleted.class), only(again, UnlearnCompleted.class));
        assertEquals(all(first, AuditEvent.class), all(again, AuditEvent.class));
    }

    @Test
    void whenAnotherDeliveryPublishedFirstItsCandidateIsAnnouncedAndOursDropped() throws Exception {
        ImportanceReady in = importance(1);
        AtomicReference<List<TopicRecord<?, ?>>> zombie = new AtomicReference<>();
        UnlearningRunner slow = fake("0.75");
        List<TopicRecord<?, ?>> out = job((job, progress) -> {
            // Meanwhile the previous owner of the partition finishes the same job and publishes first.
            Map<String, String> other = fx.commonSettings("t0");
            other.put("worker.work.dir", dir.resolve("work").toString());
            zombie.set(job(fake("0.25"), WorkerConfig.of(other)).run(in));
            return slow.run(job, progress);
        }).run(in);
        UnlearnCompleted winner = only(zombie.get(), UnlearnCompleted.class);
        assertEquals(winner, only(out, UnlearnCompleted.class));
        Path model = fx.stores().versions().resolve("m", winner.getCandidateVersion());
        try (SafetensorsFile f = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            assertArrayEquals(new float[] {0.25f}, f.readFloats("w"), "the first publication wins");
        }
        long adapters = fx.stores().ledger().holdings(in.getForgetSetId(), Role.CANDIDATE_ADAPTER).stream()
                .filter(h -> fx.artifacts().exists(h.ref())).count();
        assertEquals(1, adapters, "our own adapter tree was deleted");
    }

    @Test
    void aRunnerFailureClosesTheSetAndAnAttemptBeyondTheProfileIsRefused() throws Exception {
        ImportanceReady in = importance(1);
        WorkerJob job = job((j, p) -> {
            throw new IllegalArgumentException("token id out of range in '" + PipelineFixtures.SECRET + "'");
        });
        Exception error = assertThrows(IllegalArgumentException.class, () -> job.run(in));
        List<TopicRecord<?, ?>> out = job.onFailure(in, raw(), error);
        assertEquals(List.of(AuditStatus.FAILED, AuditStatus.FAILED), all(out, AuditEvent.class).stream()
                .map(AuditEvent::getStatus).toList());
        assertEquals(PipelineStage.UNLEARNING, all(out, AuditEvent.class).get(0).getStage());
        VerificationResult verdict = only(out, VerificationResult.class);
        assertFalse(verdict.getRetrying());
        assertEquals("failed with IllegalArgumentException", verdict.getReason());
        assertEquals("failed with IllegalArgumentException", only(out, DeadLetter.class).getReason());
        assertEquals(JobPhase.FAILED, all(heartbeats, JobProgress.class).get(all(heartbeats, JobProgress.class).size() - 1)
                .getPhase());
        assertFalse(out.toString().contains("Secretperson") || String.valueOf(verdict).contains("Secretperson"));

        JobFailure tooMany = assertThrows(JobFailure.class, () -> job(fake("1")).run(importance(3)));
        assertEquals("attempt 3 is outside 1..2", tooMany.reason().text());
    }

    @Test
    void aJobThatFailsBecauseItsSetWasClosedAndPurgedMeanwhilePublishesNoSecondFailure() throws Exception {
        // Ingest closed the set (say a record it could not attribute reached the job topic) and its FAIL verdict was
        // purged while this job ran: the forget set is gone, so the job fails for that reason.
        ImportanceReady in = importance(1);
        WorkerJob job = job(fake("1"));
        fx.stores().ledger().close(in.getForgetSetId(), new ForgetSetLedger.Closure("FAIL", null, CLOCK.instant()));
        Exception error = JobFailure.because(dev.loku.runtime.audit.AuditReason.of("the forget-set artifact is missing"),
                null);
        assertEquals(List.of(), job.onFailure(in, raw(), error),
                "the set's members already have their terminal status and the set its final verdict");

        // A set still open fails as before: FAILED per member, a final verdict and a dead letter.
        ImportanceReady open = importance(1);
        List<TopicRecord<?, ?>> out = job.onFailure(open, raw(), error);
        assertEquals(2, all(out, AuditEvent.class).size());
        assertEquals(1, all(out, VerificationResult.class).size());
        assertEquals(1, all(out, DeadLetter.class).size());
    }

    @Test
    void anInterruptedRunLeavesNothingBehind() throws Exception {
        ImportanceReady in = importance(1);
        assertThrows(InterruptedException.class, () -> job((j, p) -> {
            seen.set(j);
            throw new InterruptedException("stopping");
        }).run(in));
        assertFalse(Files.exists(seen.get().workDir().getParent()), "scratch folder deleted");
        String candidate = PipelineIds.candidateVersion("v0", PipelineIds.jobId(in.getForgetSetId(), 1, "v0"));
        assertTrue(fx.stores().versions().ref("m", candidate).isEmpty(), "nothing published");
    }

    @Test
    void epochCheckpointsOutliveAnInterruptionForTheNextDeliveryAndAreDeletedWhenTheJobEnds() throws Exception {
        ImportanceReady in = importance(1);
        assertThrows(InterruptedException.class, () -> job((j, p) -> {
            seen.set(j);
            Files.createDirectories(j.checkpointDir());
            Files.writeString(j.checkpointDir().resolve("epoch-0002.json"), "{}"); // what the engine leaves
            throw new InterruptedException("partition moved");
        }).run(in));
        Path checkpoints = seen.get().checkpointDir();
        assertTrue(checkpoints.startsWith(config.epochCheckpointDir()), checkpoints.toString());
        assertFalse(checkpoints.startsWith(seen.get().workDir()), "not in the scratch folder, which is deleted");
        assertTrue(Files.isRegularFile(checkpoints.resolve("epoch-0002.json")), "kept for the next delivery");

        UnlearningRunner fake = fake("0.5");
        only(job((j, p) -> {
            assertEquals(checkpoints, j.checkpointDir(), "the next delivery of the job finds the same folder");
            assertTrue(Files.isRegularFile(j.checkpointDir().resolve("epoch-0002.json")));
            return fake.run(j, p);
        }).run(in), UnlearnCompleted.class);
        assertFalse(Files.exists(checkpoints), "deleted once the candidate is published");

        ImportanceReady failing = importance(1);
        Path[] failed = new Path[1];
        WorkerJob job = job((j, p) -> {
            failed[0] = j.checkpointDir();
            Files.createDirectories(j.checkpointDir());
            Files.writeString(j.checkpointDir().resolve("epoch-0001.json"), "{}");
            throw new IllegalStateException("the loss diverged");
        });
        Exception error = assertThrows(IllegalStateException.class, () -> job.run(failing));
        job.onFailure(failing, raw(), error);
        assertFalse(Files.exists(failed[0]), "deleted when the set fails");
    }

    private static ConsumerRecord<byte[], byte[]> raw() {
        return new ConsumerRecord<>(Topics.IMPORTANCE.name(), 1, 3L, "m".getBytes(), new byte[] {0, 9});
    }

    static <T> T only(List<TopicRecord<?, ?>> out, Class<T> type) {
        List<T> all = all(out, type);
        assertEquals(1, all.size(), "one " + type.getSimpleName() + " in " + out);
        return all.get(0);
    }

    static <T> List<T> all(List<TopicRecord<?, ?>> out, Class<T> type) {
        List<T> list = new ArrayList<>();
        for (TopicRecord<?, ?> r : out) {
            if (type.isInstance(r.value())) {
                list.add(type.cast(r.value()));
            }
        }
        return list;
    }
}
