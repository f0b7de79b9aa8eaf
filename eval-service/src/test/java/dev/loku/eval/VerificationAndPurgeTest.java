package dev.loku.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.engine.EvaluationReport;
import dev.loku.events.AdapterInitialization;
import dev.loku.events.ArtifactRef;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ImportanceReady;
import dev.loku.events.ModelVersionPromoted;
import dev.loku.events.PipelineStage;
import dev.loku.events.RetryDirection;
import dev.loku.events.UnlearnCompleted;
import dev.loku.events.UnlearningObjective;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ForgetSetLedger.Holding;
import dev.loku.runtime.artifact.ForgetSetLedger.Role;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.job.FinalFailure;
import dev.loku.runtime.job.ForgetSetJob;
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
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The eval service's verdicts and purge with a fake candidate evaluator (the engine boundary) and real stores. */
class VerificationAndPurgeTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
    /** The base version: memorised the forget set; its unseen scores are the thresholds (MA 0.3, EL_10 0.05). */
    static final EvaluationReport BASE = EvaluationReport.of(0.9, 0.5, 0.8, 2.0, 0.3, 0.05);
    static final Map<String, EvaluationReport> CANDIDATES = Map.of(
            "forgot", EvaluationReport.of(0.1, 0.01, 0.78, 2.05, 0.3, 0.05),
            "remembers", EvaluationReport.of(0.5, 0.01, 0.8, 2.0, 0.3, 0.05),
            "damaged", EvaluationReport.of(0.1, 0.01, 0.6, 3.0, 0.2, 0.04),
            // Forgot and kept its retain MA, but its NLL on the general text rose by 0.7 nats (base: 1.8).
            "blunt", EvaluationReport.of(0.1, 0.01, 0.79, 2.05, 0.3, 0.05).withGeneralNll(2.5),
            "gentle", EvaluationReport.of(0.1, 0.01, 0.79, 2.05, 0.3, 0.05).withGeneralNll(1.85));
    /** The base version with its general-text NLL, for the general-ability guard's tests. */
    static final EvaluationReport BASE_WITH_GENERAL = BASE.withGeneralNll(1.8);

    @TempDir
    Path dir;

    private PipelineFixtures fx;
    private boolean generalMeasured;
    private final ServiceMetrics metrics = new ServiceMetrics("eval");
    private final AtomicInteger baseEvaluations = new AtomicInteger();
    private final List<TopicRecord<?, ?>> none = List.of();
    private long offset;

    /** Scores the base checkpoint as {@link #BASE}, a candidate by the label its fake worker wrote into it. */
    private final CandidateEvaluator fake = (model, sets) -> {
        assertTrue(Files.readString(sets.forget()).contains(PipelineFixtures.SECRET), "the forget set is the set's");
        assertEquals(fx.stores().catalogue().require("m").generalData(), sets.general(), "the model's general set");
        if (model.equals(fx.stores().catalogue().require("m").baseCheckpoint())) {
            baseEvaluations.incrementAndGet();
            return generalMeasured ? BASE_WITH_GENERAL : BASE;
        }
        EvaluationReport candidate = CANDIDATES.get(Files.readString(model.resolve("label.txt")));
        // With the guard measured, a candidate scripted without a general NLL keeps the base version's.
        return generalMeasured && Double.isNaN(candidate.generalNll()) ? candidate.withGeneralNll(1.8) : candidate;
    };

    @BeforeEach
    void setUp() {
        fx = PipelineFixtures.create(dir.resolve("pipeline"), null, 2, "m");
    }

    private EvalConfig config(String tolerance) {
        Map<String, String> s = fx.commonSettings("t1");
        s.put("eval.work.dir", dir.resolve("work").toString());
        if (tolerance != null) {
            s.put("eval.retain.tolerance", tolerance);
        }
        return EvalConfig.of(s);
    }

    private VerificationJob verifier(VerifiedJobs verified, EvalConfig config) {
        StageAudit audit = new StageAudit(new AuditEmitter("eval-service/t1", CLOCK, metrics));
        return new VerificationJob(config, fx.stores(), fake, verified, audit,
                new FinalFailure(audit, new DeadLetterPublisher("eval-service/t1", CLOCK, metrics), CLOCK), metrics, CLOCK);
    }

    private PurgeJob purger() {
        StageAudit audit = new StageAudit(new AuditEmitter("eval-service/t1", CLOCK, metrics));
        return new PurgeJob(fx.stores(), audit, new DeadLetterPublisher("eval-service/t1", CLOCK, metrics), CLOCK);
    }

    @Test
    void aCandidateThatForgotAndKeptItsUtilityIsPromotedOnceAndItsSetPurgedAfterwards() throws Exception {
        ForgetSetReady set = fisherDone(2);
        VerifiedJobs verified = VerifiedJobs.inMemory();
        VerificationJob verify = verifier(verified, config(null));
        ConsumerRecord<String, UnlearnCompleted> first = at(workerDone(set, 1, "remembers"));
        List<TopicRecord<?, ?>> retry = verify.run(first);

        VerificationResult failed = only(retry, VerificationResult.class);
        assertEquals(Verdict.FAIL, failed.getVerdict());
        assertTrue(failed.getRetrying(), "attempt 1 of 2 may be retried");
        assertEquals("forget MA 0.5000 >= threshold 0.3000", failed.getReason());
        ImportanceReady again = only(retry, ImportanceReady.class);
        assertEquals(2, again.getAttempt());
        assertEquals(fx.stores().ledger().holdings(set.getForgetSetId(), Role.IMPORTANCE).get(0).ref().getSha256(),
                again.getImportance().getSha256(), "the same importance artifact");
        assertEquals(set.getForgetSet(), again.getForgetSet());
        assertEquals(12, again.getForgetTokenCount());
        assertEquals(List.of(AuditStatus.RETRYING, AuditStatus.RETRYING), statuses(retry));
        assertTrue(all(retry, ModelVersionPromoted.class).isEmpty());
        assertEquals(List.of(), purger().run(failed), "a retrying verdict purges nothing");
        assertTrue(fx.artifacts().exists(set.getForgetSet()));

        UnlearnCompleted second = workerDone(set, 2, "forgot");
        List<TopicRecord<?, ?>> passed = verify.run(at(second));
        VerificationResult pass = only(passed, VerificationResult.class);
        assertEquals(Verdict.PASS, pass.getVerdict());
        assertNull(pass.getReason());
        assertFalse(pass.getRetrying());
        assertEquals(0.3, pass.getThresholds().getMaThreshold(), "thresholds are the base version's unseen scores");
        assertEquals(0.05, pass.getThresholds().getEl10Threshold());
        assertEquals(0.05, pass.getThresholds().getRetainTolerance(), "the profile's tolerance");
        assertEquals(0.9, pass.getBefore().getForgetMa());
        assertEquals(0.1, pass.getAfter().getForgetMa());
        assertEquals(1, baseEvaluations.get(), "the base version is scored once for both attempts");
        ModelVersionPromoted promoted = only(passed, ModelVersionPromoted.class);
        assertEquals(second.getCandidateVersion(), promoted.getVersion());
        assertEquals("v0", promoted.getPreviousVersion());
        assertEquals(second.getModel(), promoted.getModel());
        assertEquals(second.getAdapter(), promoted.getAdapter());
        assertEquals(Topics.MODEL_VERSIONS.name(), passed.get(1).topicName());
        assertEquals(List.of(AuditStatus.VERIFIED, AuditStatus.VERIFIED), statuses(passed));
        assertEquals("acme", all(passed, AuditEvent.class).get(0).getTenantId());

        // The same candidate again, later in the topic: recognised, not promoted a second time.
        assertEquals(none, verify.run(at(second)));
        assertEquals(1.0, metrics.duplicates());

        // The purge after the final verdict.
        List<TopicRecord<?, ?>> purged = purger().run(pass);
        assertEquals(List.of(AuditStatus.PURGED, AuditStatus.PURGED), statuses(purged));
        assertEquals(PipelineStage.PURGE, all(purged, AuditEvent.class).get(0).getStage());
        assertEquals(second.getCandidateVersion(), all(purged, AuditEvent.class).get(0).getModelVersion());
        assertFalse(fx.artifacts().exists(set.getForgetSet()), "forget set deleted");
        for (var m : set.getMembers()) {
            assertFalse(fx.artifacts().exists(fx.contentRef(m.getRequestId())), "request content deleted");
            assertTrue(fx.stores().keys().find(m.getRequestId()).isEmpty(), "data key destroyed");
            // A surviving copy of the sealed content (a backup, say) no longer opens.
            assertEquals(dev.loku.runtime.crypto.ContentSeal.UnsealException.Reason.KEY_MISSING,
                    org.junit.jupiter.api.Assertions.assertThrows(
                            dev.loku.runtime.crypto.ContentSeal.UnsealException.class,
                            () -> dev.loku.runtime.crypto.SealedLines.open(fx.stores().seal(),
                                    fx.sealedContent(m.getRequestId()))).reason());
        }
        assertFalse(fx.artifacts().exists(again.getImportance()), "importance deleted");
        String failedVersion = workerVersion(set, 1);
        assertTrue(fx.stores().versions().ref("m", failedVersion).isEmpty(), "the failed attempt's candidate withdrawn");
        assertTrue(Files.isRegularFile(fx.stores().versions().resolve("m", second.getCandidateVersion())
                .resolve("label.txt")), "the promoted version stays");
        assertTrue(fx.artifacts().manifest(second.getAdapter()).files().size() > 0, "so does its adapter");
        assertTrue(fx.stores().ledger().isClosed(set.getForgetSetId()));
        assertEquals(statuses(purged), statuses(purger().run(pass)), "a re-run purge is harmless and says the same");

        // Stale repeats after the purge are ignored, even by a fresh instance that has not seen the verdict.
        assertEquals(none, verifier(VerifiedJobs.inMemory(), config(null)).run(at(second)));
    }

    @Test
    void aCandidateThatKeepsRetainMaButLosesGeneralAbilityFailsAndIsRetriedGentler() throws Exception {
        generalMeasured = true;
        ForgetSetReady set = fisherDone(2);
        VerificationJob verify = verifier(VerifiedJobs.inMemory(), config(null));
        List<TopicRecord<?, ?>> out = verify.run(at(workerDone(set, 1, "blunt")));
        VerificationResult v = only(out, VerificationResult.class);
        assertEquals(Verdict.FAIL, v.getVerdict(), "forgotten and retain MA kept (0.80 -> 0.79), general NLL +0.7");
        assertEquals("general-text NLL rose from 1.8000 to 2.5000, more than the tolerance 0.1000", v.getReason());
        assertEquals(1.8, v.getBefore().getGeneralNll());
        assertEquals(2.5, v.getAfter().getGeneralNll());
        assertEquals(0.1, v.getThresholds().getGeneralTolerance(), "the profile's default general tolerance");
        assertTrue(v.getRetrying());
        assertEquals(List.of(AuditStatus.RETRYING, AuditStatus.RETRYING), statuses(out));
        assertEquals(v.getReason(), all(out, AuditEvent.class).get(0).getReason(), "the reason is audited");
        ImportanceReady retry = only(out, ImportanceReady.class);
        assertEquals(RetryDirection.GENTLER, retry.getRetryDirection(), "a utility failure retries gentler");

        // The gentler attempt drifts 0.05 nats: within the tolerance, promoted.
        VerificationResult pass = only(verify.run(at(workerDone(set, 2, "gentle"))), VerificationResult.class);
        assertEquals(Verdict.PASS, pass.getVerdict());

        // A failure to forget alone retries stronger.
        ForgetSetReady other = fisherDone(2);
        ImportanceReady stronger = only(verify.run(at(workerDone(other, 1, "remembers"))), ImportanceReady.class);
        assertEquals(RetryDirection.STRONGER, stronger.getRetryDirection());

        // An operator's tolerance for every model lets the blunt candidate through.
        Map<String, String> loose = fx.commonSettings("t1");
        loose.put("eval.work.dir", dir.resolve("work").toString());
        loose.put("eval.general.tolerance", "1.0");
        ForgetSetReady third = fisherDone(1);
        assertEquals(Verdict.PASS, only(verifier(VerifiedJobs.inMemory(), EvalConfig.of(loose))
                .run(at(workerDone(third, 1, "blunt"))), VerificationResult.class).getVerdict());
    }

    @Test
    void aFailureWithNoAttemptsLeftIsFinalAndNamesTheUtilityLoss() throws Exception {
        ForgetSetReady set = fisherDone(1);
        List<TopicRecord<?, ?>> out = verifier(VerifiedJobs.inMemory(), config(null)).run(at(workerDone(set, 2, "damaged")));
        VerificationResult v = only(out, VerificationResult.class);
        assertEquals(Verdict.FAIL, v.getVerdict());
        assertFalse(v.getRetrying());
        assertEquals("retain MA fell from 0.8000 to 0.6000, more than the tolerance 0.0500", v.getReason());
        assertEquals(List.of(AuditStatus.FAILED), statuses(out));
        assertEquals(v.getReason(), all(out, AuditEvent.class).get(0).getReason());
        assertTrue(all(out, ImportanceReady.class).isEmpty());

        List<TopicRecord<?, ?>> purged = purger().run(v);
        assertEquals(List.of(AuditStatus.PURGED), statuses(purged));
        assertNull(all(purged, AuditEvent.class).get(0).getModelVersion(), "nothing promoted");
        assertTrue(fx.stores().versions().ref("m", workerVersion(set, 2)).isEmpty(), "the candidate withdrawn");
        assertFalse(fx.artifacts().exists(set.getForgetSet()));

        // An operator's looser tolerance for every model lets the same candidate pass.
        ForgetSetReady other = fisherDone(1);
        VerificationResult loose = only(verifier(VerifiedJobs.inMemory(), config("0.3"))
                .run(at(workerDone(other, 1, "damaged"))), VerificationResult.class);
        assertEquals(Verdict.PASS, loose.getVerdict());
        assertEquals(0.3, loose.getThresholds().getRetainTolerance());
    }

    @Test
    void aJobWhoseVerdictIsOnTheVerificationsTopicIsARepeatButARerunAtTheSamePositionIsNot() throws Exception {
        ForgetSetReady set = fisherDone(1);
        UnlearnCompleted done = workerDone(set, 1, "forgot");
        VerifiedJobs verified = VerifiedJobs.inMemory();
        VerificationJob verify = verifier(verified, config(null));
        ConsumerRecord<String, UnlearnCompleted> input = at(done);
        VerificationResult v = only(verify.run(input), VerificationResult.class);
        assertEquals(Verdict.PASS, only(verify.run(input), VerificationResult.class).getVerdict(),
                "the runner re-runs an input whose commit failed: verified again");

        VerifiedJobs restarted = VerifiedJobs.inMemory();
        restarted.record(v); // what a restarted instance reads back from loku.verifications
        assertEquals(none, verifier(restarted, config(null)).run(at(done)));
    }

    @Test
    void aCorruptCandidateFailsTheSetAndTheFinalFailureIsPurgedLikeAnyVerdict() throws Exception {
        ForgetSetReady set = fisherDone(1);
        UnlearnCompleted done = workerDone(set, 1, "forgot");
        for (var f : fx.artifacts().manifest(done.getModel()).files()) {
            Path blob = fx.artifacts().root().resolve("blobs/sha256").resolve(f.sha256().substring(0, 2)).resolve(f.sha256());
            Files.writeString(blob, "x");
        }
        VerificationJob verify = verifier(VerifiedJobs.inMemory(), config(null));
        ConsumerRecord<String, UnlearnCompleted> input = at(done);
        JobFailure e = assertThrows(JobFailure.class, () -> verify.run(input));
        assertEquals("candidate " + done.getCandidateVersion() + " is missing or corrupt in the artifact store",
                e.reason().text());
        List<TopicRecord<?, ?>> out = verify.onFailure(input, new ConsumerRecord<>(Topics.CANDIDATES.name(), 0, 1L,
                "m".getBytes(), new byte[] {0}), e);
        VerificationResult v = only(out, VerificationResult.class);
        assertFalse(v.getRetrying());
        assertEquals(List.of(AuditStatus.FAILED), statuses(out));

        assertEquals(List.of(AuditStatus.PURGED), statuses(purger().run(v)));
        assertFalse(fx.artifacts().exists(set.getForgetSet()));
        assertTrue(fx.stores().versions().ref("m", done.getCandidateVersion()).isEmpty());
    }

    @Test
    void theFinalFailureOfAnEarlierStageIsPurgedFromTheLedgerAlone() throws Exception {
        ForgetSetReady set = fisherDone(1); // as far as the Fisher service got before the worker failed
        VerificationResult v = new FinalFailure(null, null, CLOCK).verdict(ForgetSetJob.of(set),
                dev.loku.runtime.audit.AuditReason.of("failed with OutOfMemoryError"));
        assertEquals(List.of(AuditStatus.PURGED), statuses(purger().run(v)));
        assertFalse(fx.artifacts().exists(set.getForgetSet()));
        assertFalse(fx.artifacts().exists(fx.contentRef(set.getMembers().get(0).getRequestId())));
        assertTrue(fx.stores().ledger().holdings(set.getForgetSetId()).isEmpty());
    }

    @Test
    void aBlobAnotherOpenSetStillHoldsIsKeptUntilThatSetIsPurgedToo() throws Exception {
        ForgetSetReady a = fisherDone(1);
        ForgetSetReady b = fisherDone(1);
        Holding shared = fx.stores().ledger().holdings(a.getForgetSetId(), Role.IMPORTANCE).get(0);
        fx.stores().ledger().hold(b.getForgetSetId(), shared); // equal bytes: one blob, two holders
        FinalFailure verdicts = new FinalFailure(null, null, CLOCK);
        dev.loku.runtime.audit.AuditReason why = dev.loku.runtime.audit.AuditReason.of("failed with IOException");

        purger().run(verdicts.verdict(ForgetSetJob.of(a), why));
        assertFalse(fx.artifacts().exists(a.getForgetSet()));
        assertTrue(fx.artifacts().exists(shared.ref()), "still held by the open set b");
        purger().run(verdicts.verdict(ForgetSetJob.of(b), why));
        assertFalse(fx.artifacts().exists(shared.ref()));
    }

    @Test
    void aContentBlobARequestStillWaitingForAnotherModelHoldsIsKept() throws Exception {
        ForgetSetReady a = fisherDone(1);
        UUID member = a.getMembers().get(0).getRequestId();
        ArtifactRef content = fx.contentRef(member);
        ForgetSetLedger ledger = fx.stores().ledger();
        // As ingest leaves them: each accepted request holds its content; the second one, with equal bytes (the same
        // subject's record erased from another model), waits behind that model's gate and is in no set yet.
        UUID waiting = UUID.randomUUID();
        ledger.holdWaiting(member, content.getSha256());
        ledger.holdWaiting(waiting, content.getSha256());
        FinalFailure verdicts = new FinalFailure(null, null, CLOCK);

        assertEquals(List.of(AuditStatus.PURGED), statuses(purger().run(verdicts.verdict(ForgetSetJob.of(a),
                dev.loku.runtime.audit.AuditReason.of("failed with IOException")))));
        assertTrue(fx.artifacts().exists(content), "the waiting request's content is still there to be cut");
        assertEquals(fx.artifacts().read(content).length, content.getSizeBytes());
        assertFalse(ledger.heldElsewhere(UUID.randomUUID(), List.of(waiting), content.getSha256()),
                "the purged member's hold was released; only the waiting request's is left");
        assertTrue(ledger.heldElsewhere(UUID.randomUUID(), List.of(), content.getSha256()));

        // Once the waiting request's own set is purged, nothing holds the blob and it goes.
        ForgetSetReady b = fx.forgetSet("m", List.of(waiting));
        ledger.recordSet(ForgetSetLedger.SetRecord.of(b));
        ledger.hold(b.getForgetSetId(), new Holding(Role.REQUEST_CONTENT, content, Map.of()));
        purger().run(verdicts.verdict(ForgetSetJob.of(b), dev.loku.runtime.audit.AuditReason.of("failed with IOException")));
        assertFalse(fx.artifacts().exists(content));
        assertFalse(ledger.heldElsewhere(UUID.randomUUID(), List.of(), content.getSha256()));
    }

    // --- what the earlier stages leave behind ---

    /** A forget set as the Fisher service leaves it: recorded, contents and importance held. */
    private ForgetSetReady fisherDone(int requests) throws Exception {
        ForgetSetReady set = fx.forgetSet("m", requests);
        ForgetSetLedger ledger = fx.stores().ledger();
        ledger.recordSet(ForgetSetLedger.SetRecord.of(set));
        ledger.hold(set.getForgetSetId(), new Holding(Role.FORGET_SET, set.getForgetSet(), Map.of()));
        for (ArtifactRef c : ForgetSetLedger.memberContentRefs(fx.artifacts().read(set.getForgetSet()),
                ForgetSetLedger.SetRecord.of(set).members())) {
            ledger.hold(set.getForgetSetId(), new Holding(Role.REQUEST_CONTENT, c, Map.of()));
        }
        ArtifactRef importance = fx.artifacts().putFile(PipelineFixtures.tinySafetensors(
                dir.resolve(UUID.randomUUID() + ".safetensors"), "fisher", (float) Math.random()));
        ledger.hold(set.getForgetSetId(), new Holding(Role.IMPORTANCE, importance, Map.of("forgetTokens", "12",
                "retainTokens", "12")));
        return set;
    }

    private static String workerVersion(ForgetSetReady set, int attempt) {
        return PipelineIds.candidateVersion("v0", PipelineIds.jobId(set.getForgetSetId(), attempt, "v0"));
    }

    /** A candidate as the worker leaves it: published, held, announced; {@code label} scripts its scores. */
    private UnlearnCompleted workerDone(ForgetSetReady set, int attempt, String label) throws Exception {
        UUID jobId = PipelineIds.jobId(set.getForgetSetId(), attempt, "v0");
        String version = PipelineIds.candidateVersion("v0", jobId);
        Path model = Files.createDirectories(dir.resolve("cand-" + version));
        Files.writeString(model.resolve("config.json"), "{}");
        Files.writeString(model.resolve("label.txt"), label);
        Path adapter = Files.createDirectories(dir.resolve("adapter-" + version));
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\":" + attempt + "}");
        ArtifactRef modelRef = fx.stores().versions().publish("m", version, model);
        ArtifactRef adapterRef = fx.artifacts().putTree(adapter);
        Map<String, String> attrs = Map.of("version", version, "attempt", Integer.toString(attempt));
        fx.stores().ledger().hold(set.getForgetSetId(), new Holding(Role.CANDIDATE_MODEL, modelRef, attrs));
        fx.stores().ledger().hold(set.getForgetSetId(), new Holding(Role.CANDIDATE_ADAPTER, adapterRef, attrs));
        return UnlearnCompleted.newBuilder()
                .setForgetSetId(set.getForgetSetId()).setModelId("m").setBaseModelVersion("v0")
                .setCandidateVersion(version).setAdapter(adapterRef).setModel(modelRef)
                .setObjective(UnlearningObjective.INVERTED_HINGE_LOSS).setInitialization(AdapterInitialization.FILA)
                .setSeed(1).setEpochs(List.of()).setStoppedAtEpoch(1).setReachedThreshold(true)
                .setRequestIds(set.getMembers().stream().map(m -> m.getRequestId()).toList())
                .setAttempt(attempt).setJobId(jobId).setCompletedAt(CLOCK.instant())
                .build();
    }

    private ConsumerRecord<String, UnlearnCompleted> at(UnlearnCompleted e) {
        return new ConsumerRecord<>(Topics.CANDIDATES.name(), 0, offset++, e.getModelId(), e);
    }

    private static List<AuditStatus> statuses(List<TopicRecord<?, ?>> out) {
        return all(out, AuditEvent.class).stream().map(AuditEvent::getStatus).toList();
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
