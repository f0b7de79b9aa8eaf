package dev.loku.fisher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.io.SafetensorsFile;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.DeadLetter;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ImportanceReady;
import dev.loku.events.PipelineStage;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Fisher job's logic with a fake importance estimator (the engine boundary) and real stores. */
class FisherJobTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    private PipelineFixtures fx;
    private FisherConfig config;
    private final ServiceMetrics metrics = new ServiceMetrics("fisher");
    private final AtomicReference<ImportanceEstimator.ImportanceJob> seen = new AtomicReference<>();
    private final AtomicReference<byte[]> forgetSeen = new AtomicReference<>();

    /** Writes a one-tensor safetensors file, like the real estimator writes its importance. */
    private final ImportanceEstimator fake = job -> {
        seen.set(job);
        forgetSeen.set(Files.readAllBytes(job.forgetSetJsonl()));
        return new ImportanceEstimator.ImportanceOutcome(
                PipelineFixtures.tinySafetensors(job.workDir().resolve("importance.safetensors"), "layers.0.fisher", 0.5f, 2f),
                40, 40);
    };

    @BeforeEach
    void setUp() {
        fx = PipelineFixtures.create(dir, null, 2, "m");
        Map<String, String> settings = fx.commonSettings("t1");
        settings.put("fisher.work.dir", dir.resolve("work").toString());
        settings.put("fisher.seed", "7");
        config = FisherConfig.of(settings);
    }

    private FisherJob job(ImportanceEstimator estimator) {
        StageAudit audit = new StageAudit(new AuditEmitter("fisher-service/t1", CLOCK, metrics));
        return new FisherJob(config, fx.stores(), estimator, audit,
                new FinalFailure(audit, new DeadLetterPublisher("fisher-service/t1", CLOCK, metrics), CLOCK), metrics,
                CLOCK);
    }

    @Test
    void aForgetSetBecomesAnImportanceArtifactImportanceReadyAndOneAuditPerRequest() throws Exception {
        ForgetSetReady set = fx.forgetSet("m", 2);
        List<TopicRecord<?, ?>> out = job(fake).run(set);

        ImportanceReady ready = only(out, ImportanceReady.class);
        assertEquals(set.getForgetSetId(), ready.getForgetSetId());
        assertEquals(1, ready.getAttempt());
        assertEquals("v0", ready.getBaseModelVersion());
        assertEquals(set.getForgetSet(), ready.getForgetSet());
        assertEquals(40, ready.getForgetTokenCount());
        try (SafetensorsFile f = SafetensorsFile.open(write(fx.artifacts().read(ready.getImportance())))) {
            assertArrayEquals(new float[] {0.5f, 2f}, f.readFloats("layers.0.fisher"), "the importance is stored intact");
        }
        assertEquals(Topics.IMPORTANCE.name(), out.get(0).topicName());
        assertEquals("m", out.get(0).key());

        List<AuditEvent> audits = all(out, AuditEvent.class);
        assertEquals(set.getMembers().stream().map(m -> m.getRequestId()).collect(Collectors.toSet()),
                audits.stream().map(AuditEvent::getRequestId).collect(Collectors.toSet()));
        for (AuditEvent e : audits) {
            assertEquals(AuditStatus.IMPORTANCE_READY, e.getStatus());
            assertEquals(PipelineStage.IMPORTANCE, e.getStage());
            assertEquals("acme", e.getTenantId());
            assertEquals(set.getForgetSetId(), e.getForgetSetId());
            assertEquals(1, e.getAttempt());
        }

        // What the estimator got: the base checkpoint, the forget set opened (the members' plaintext JSONL in
        // request-id order, while the store holds only the sealed lines), the retain data, the seed.
        assertEquals(fx.stores().catalogue().require("m").baseCheckpoint(), seen.get().model());
        java.io.ByteArrayOutputStream plain = new java.io.ByteArrayOutputStream();
        set.getMembers().stream().map(m -> m.getRequestId()).sorted(java.util.Comparator.comparing(Object::toString))
                .forEach(id -> plain.writeBytes(dev.loku.runtime.testing.PipelineFixtures.content(id)));
        assertArrayEquals(plain.toByteArray(), forgetSeen.get());
        assertFalse(new String(fx.artifacts().read(set.getForgetSet()), java.nio.charset.StandardCharsets.UTF_8)
                .contains("Secretperson"), "the stored forget set is sealed");
        assertEquals(fx.stores().catalogue().require("m").retainData(), seen.get().retainJsonl());
        assertEquals(7, seen.get().seed());
        assertFalse(Files.exists(seen.get().workDir()), "the scratch copy of the forget set is deleted");

        // The ledger holds everything the purge will need, including the members' content artifacts.
        ForgetSetLedger ledger = fx.stores().ledger();
        assertEquals(ForgetSetLedger.SetRecord.of(set), ledger.set(set.getForgetSetId()).orElseThrow());
        Set<String> contents = ledger.holdings(set.getForgetSetId(), Role.REQUEST_CONTENT).stream()
                .map(h -> h.ref().getSha256()).collect(Collectors.toSet());
        assertEquals(set.getMembers().stream().map(m -> fx.contentRef(m.getRequestId()).getSha256())
                .collect(Collectors.toSet()), contents);
        assertTrue(contents.stream().allMatch(sha -> fx.artifacts().exists(fx.contentRef(findId(set, sha)))));
        assertEquals(List.of(ready.getImportance().getSha256()), ledger.holdings(set.getForgetSetId(), Role.IMPORTANCE)
                .stream().map(h -> h.ref().getSha256()).toList());
        assertEquals(1, ledger.holdings(set.getForgetSetId(), Role.FORGET_SET).size());
    }

    @Test
    void anEstimatorFailureClosesTheSetWithoutQuotingAnything() throws Exception {
        ForgetSetReady set = fx.forgetSet("m", 1);
        FisherJob job = job(j -> {
            throw new IllegalStateException("cannot tokenize '" + PipelineFixtures.SECRET + " lives at 7 Hidden Lane'");
        });
        Exception error = assertThrows(IllegalStateException.class, () -> job.run(set));
        List<TopicRecord<?, ?>> out = job.onFailure(set, raw(), error);

        AuditEvent failed = only(out, AuditEvent.class);
        assertEquals(AuditStatus.FAILED, failed.getStatus());
        assertEquals(PipelineStage.IMPORTANCE, failed.getStage());
        assertEquals("failed with IllegalStateException", failed.getReason());
        VerificationResult verdict = only(out, VerificationResult.class);
        assertEquals(Verdict.FAIL, verdict.getVerdict());
        assertFalse(verdict.getRetrying(), "final: the gate opens");
        assertTrue(Double.isNaN(verdict.getAfter().getForgetMa()), "nothing was measured");
        assertEquals(set.getForgetSetId(), verdict.getForgetSetId());
        DeadLetter letter = only(out, DeadLetter.class);
        assertEquals("failed with IllegalStateException", letter.getReason());
        assertEquals(Topics.FORGET_SETS.name(), letter.getSourceTopic());
        assertTrue(fx.stores().ledger().set(set.getForgetSetId()).isPresent(), "recorded for the purge");
        assertFalse(out.toString().contains("Secretperson") || String.valueOf(failed).contains("Secretperson")
                || String.valueOf(verdict).contains("Secretperson"));
    }

    @Test
    void aCorruptForgetSetOrAnUnknownBaseVersionFailsWithAReasonThatNamesIt() throws Exception {
        ForgetSetReady set = fx.forgetSet("m", 1);
        Path blob = fx.artifacts().root().resolve("blobs/sha256").resolve(set.getForgetSet().getSha256().substring(0, 2))
                .resolve(set.getForgetSet().getSha256());
        Files.writeString(blob, "tampered");
        JobFailure corrupt = assertThrows(JobFailure.class, () -> job(fake).run(set));
        assertEquals("the forget-set artifact is corrupt", corrupt.reason().text());

        ForgetSetReady later = ForgetSetReady.newBuilder(fx.forgetSet("m", 1)).setBaseModelVersion("v3-0a0b0c0d").build();
        JobFailure unknown = assertThrows(JobFailure.class, () -> job(fake).run(later));
        assertEquals("base model version v3-0a0b0c0d is not published", unknown.reason().text());
        assertEquals("base model version v3-0a0b0c0d is not published",
                only(job(fake).onFailure(later, raw(), unknown), AuditEvent.class).getReason());
    }

    @Test
    void aSetAlreadyClosedIsAStaleRepeatAndIgnored() throws Exception {
        ForgetSetReady set = fx.forgetSet("m", 1);
        fx.stores().ledger().close(set.getForgetSetId(), new ForgetSetLedger.Closure("PASS", "v1-00000001", Instant.now()));
        assertEquals(List.of(), job(fake).run(set));
        assertEquals(null, seen.get(), "the estimator did not run");
        assertEquals(1.0, metrics.duplicates());
    }

    private UUID findId(ForgetSetReady set, String sha) {
        return set.getMembers().stream().map(m -> m.getRequestId())
                .filter(id -> fx.contentRef(id).getSha256().equals(sha)).findFirst().orElseThrow();
    }

    private Path write(byte[] bytes) throws Exception {
        return Files.write(dir.resolve("read-back-" + UUID.randomUUID() + ".safetensors"), bytes);
    }

    private static ConsumerRecord<byte[], byte[]> raw() {
        return new ConsumerRecord<>(Topics.FORGET_SETS.name(), 2, 17L, "m".getBytes(), new byte[] {0, 1, 2});
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
        assertInstanceOf(List.class, list);
        return list;
    }
}
