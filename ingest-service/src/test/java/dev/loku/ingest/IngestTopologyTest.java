package dev.loku.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.DeadLetter;
import dev.loku.events.ErasureRequest;
import dev.loku.events.EvaluationMetrics;
import dev.loku.events.ForgetSetMember;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.PipelineStage;
import dev.loku.events.QaPair;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.events.VerificationThresholds;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.DirectoryArtifactStore;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.audit.AuditChainVerifier;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.crypto.DataKeyStores;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.testing.PlainAvroSerdes;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.runtime.testing.TestCatalogues;
import dev.loku.schemas.ErasureRequests;
import dev.loku.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ingest topology in TopologyTestDriver: validation, dead letters, dedupe, batching by count and time, the gate. */
class IngestTopologyTest {

    private dev.loku.runtime.crypto.DataKeyStore keys;

    static final PlainAvroSerdes SERDES = new PlainAvroSerdes();
    static final Instant START = Instant.parse("2026-11-23T10:00:00Z");

    @TempDir
    Path dir;
    TopologyTestDriver driver;
    DirectoryArtifactStore artifacts;
    ServiceMetrics metrics;
    TestInputTopic<byte[], byte[]> requests;
    TestInputTopic<String, VerificationResult> verifications;
    TestOutputTopic<String, AuditEvent> audit;
    TestOutputTopic<String, ForgetSetReady> forgetSets;
    TestOutputTopic<byte[], DeadLetter> deadLetters;
    /** Every audit event this driver produced, checked as integrity chains when the test ends. */
    AuditChainVerifier chains;

    @BeforeEach
    void start() throws Exception {
        startWith(Map.of());
    }

    /** Builds the topology and its test driver with the test's settings plus {@code extra}. */
    private void startWith(Map<String, String> extra) throws Exception {
        Path catalogue = TestCatalogues.write(dir.resolve("conf"), Map.of("model-a", List.of("acme"),
                "model-b", List.of("acme", "globex")));
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "artifacts.root", dir.resolve("artifacts").toString(),
                "models.catalogue", catalogue.toString(),
                "service.instance.id", "test",
                "ingest.batch.max.requests", "3",
                "ingest.batch.max.wait", "10s",
                "ingest.batch.check.interval", "1s",
                "ingest.max.content.bytes", "400"));
        settings.putAll(extra);
        IngestConfig config = IngestConfig.of(settings);
        artifacts = new DirectoryArtifactStore(config.common().artifactsRoot());
        metrics = new ServiceMetrics("ingest");
        StreamsBuilder builder = new StreamsBuilder();
        IngestTopology.buildTopology(builder, config, SERDES, ModelCatalogue.load(catalogue), artifacts,
                ForgetSetLedger.inDirectory(artifacts), keys = DataKeyStores.open(config.common().keyStore()), metrics);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "ingest-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        driver = new TopologyTestDriver(builder.build(), props, START);
        chains = new AuditChainVerifier();
        requests = driver.createInputTopic(Topics.ERASURE_REQUESTS.name(), new ByteArraySerializer(), new ByteArraySerializer());
        verifications = driver.createInputTopic(Topics.VERIFICATIONS.name(), Serdes.String().serializer(),
                Topics.VERIFICATIONS.valueSerde(SERDES).serializer());
        audit = driver.createOutputTopic(Topics.AUDIT.name(), Serdes.String().deserializer(),
                Topics.AUDIT.valueSerde(SERDES).deserializer());
        forgetSets = driver.createOutputTopic(Topics.FORGET_SETS.name(), Serdes.String().deserializer(),
                Topics.FORGET_SETS.valueSerde(SERDES).deserializer());
        deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS.name(), Serdes.ByteArray().deserializer(),
                Topics.DEAD_LETTERS.valueSerde(SERDES).deserializer());
    }

    @AfterEach
    void stop() {
        try {
            audit.readRecordsToList().forEach(r -> chains.add(r.value()));
            AuditChainVerifier.Report report = chains.report();
            assertTrue(report.intact(), () -> "the audit chains are broken: " + report.problems());
            report.chainsByWriter().keySet().forEach(id -> assertTrue(id.startsWith("ingest-test/"), id));
        } finally {
            driver.close();
        }
    }

    @Test
    void eachBranchOfEachTaskWritesOneIntactAuditChain() {
        List.of(request("model-a", "acme").build(), request("model-a", "acme").build(),
                request("model-a", "acme").build(), request("model-a", "globex").build()).forEach(this::send);
        Map<UUID, List<AuditEvent>> trail = trail(); // three accepted and cut (BATCHED), one rejected
        long events = trail.values().stream().mapToLong(List::size).sum();
        AuditChainVerifier.Report report = chains.report();
        assertTrue(report.intact(), () -> report.problems().toString());
        assertEquals(events, report.events());
        List<String> ids = List.copyOf(report.chainsByWriter().keySet());
        assertEquals(2, ids.size(), ids.toString());
        assertTrue(ids.get(0).startsWith("ingest-test/batcher/"), ids.toString());
        assertTrue(ids.get(1).startsWith("ingest-test/intake/"), ids.toString());
        assertEquals(3L, report.chainsByWriter().get(ids.get(0)), "BATCHED for each of the three members");
        assertEquals(events - 3, report.chainsByWriter().get(ids.get(1)));
    }

    @Test
    void withATenantHeaderTheGatewaysTenantMustBeTheClaimedOne() throws Exception {
        driver.close();
        startWith(Map.of("ingest.tenant.header", "loku-tenant"));
        ErasureRequest vouched = request("model-b", "globex").build();
        ErasureRequest claimsAnother = request("model-b", "acme").build();
        ErasureRequest noHeader = request("model-b", "acme").build();
        sendWithHeader(vouched, "globex");
        sendWithHeader(claimsAnother, "globex"); // authenticated as globex, claims acme: refused
        send(noHeader);

        Map<UUID, List<AuditEvent>> trail = trail();
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED), statuses(trail.get(vouched.getRequestId())));
        assertRejected(trail, claimsAnother, "the claimed tenant differs from the tenant the gateway authenticated");
        assertRejected(trail, noHeader, "the request carries no tenant header from the gateway");
        assertTrue(keys.find(claimsAnother.getRequestId()).isEmpty(), "a rejected request's key is destroyed");
        assertTrue(keys.find(vouched.getRequestId()).isPresent());
    }

    @Test
    void invalidRequestsAreRejectedWithTheirReason() {
        ErasureRequest empty = request("model-a", "acme").setTexts(List.of()).setQaPairs(List.of()).build();
        ErasureRequest blank = request("model-a", "acme").setTexts(List.of("fine", "  ")).build();
        ErasureRequest blankAnswer = request("model-a", "acme").setTexts(List.of()).setQaPairs(List.of(new QaPair("Q?", ""))).build();
        ErasureRequest oversize = request("model-a", "acme").setTexts(List.of("x".repeat(390), "y".repeat(20))).setQaPairs(List.of()).build();
        ErasureRequest unknownModel = request("model-z", "acme").build();
        ErasureRequest wrongTenant = request("model-a", "globex").build();
        List.of(empty, blank, blankAnswer, oversize, unknownModel, wrongTenant).forEach(this::send);

        Map<UUID, List<AuditEvent>> trail = trail();
        assertRejected(trail, empty, "no texts and no qaPairs");
        assertRejected(trail, blank, "text 2 of 2 is blank");
        assertRejected(trail, blankAnswer, "QA pair 1 of 1 has a blank question or answer");
        assertRejected(trail, oversize, "content is 410 bytes, over the limit of 400");
        assertRejected(trail, unknownModel, "model is not in the model catalogue");
        assertRejected(trail, wrongTenant, "tenant is not allowed to file requests for this model");
        driver.advanceWallClockTime(Duration.ofMinutes(5));
        assertTrue(forgetSets.isEmpty());
        assertEquals(6, metrics.requests("REJECTED"));
    }

    @Test
    void undecodableBytesAreDeadLetteredAndAuditedUnderTheKeyOrALocationId() {
        UUID keyed = UUID.randomUUID();
        requests.pipeInput(keyed.toString().getBytes(StandardCharsets.UTF_8), new byte[] {0x01, 0x7f});
        requests.pipeInput("not-a-uuid".getBytes(StandardCharsets.UTF_8), new byte[] {0x01});

        List<TestRecord<byte[], DeadLetter>> letters = deadLetters.readRecordsToList();
        assertEquals(2, letters.size());
        DeadLetter first = letters.get(0).value();
        assertEquals(Topics.ERASURE_REQUESTS.name(), first.getSourceTopic());
        assertEquals(0, first.getOffset());
        assertEquals("not-a-uuid", new String(letters.get(1).key(), StandardCharsets.UTF_8), "keyed by the original key");
        assertEquals(1, letters.get(1).value().getOffset());
        assertFalse(first.getReason().isBlank());

        Map<UUID, List<AuditEvent>> trail = trail();
        UUID located = PipelineIds.undecodableRequestId("not-a-uuid".getBytes(StandardCharsets.UTF_8),
                Topics.ERASURE_REQUESTS.name(), 0, 1);
        for (UUID id : List.of(keyed, located)) {
            List<AuditEvent> events = trail.get(id);
            assertEquals(List.of(AuditStatus.DEAD_LETTERED, AuditStatus.REJECTED), statuses(events), "trail of " + id);
            assertNull(events.get(0).getModelId());
            assertTrue(events.get(1).getReason().startsWith("the record could not be decoded; dead-lettered from "
                    + "loku.erasure-requests partition 0 offset "), events.get(1).getReason());
        }
        assertEquals(2, metrics.deadLetters());
    }

    @Test
    void aResentRequestIsDroppedAndMakesNoSecondMember() {
        ErasureRequest r = request("model-a", "acme").build();
        send(r);
        send(r);
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED), statuses(trail().get(r.getRequestId())));
        assertEquals(1, metrics.duplicates());
        driver.advanceWallClockTime(Duration.ofSeconds(11));
        assertEquals(1, forgetSets.readValue().getRequestCount());
    }

    @Test
    void requestIdsAreForgottenAfterTheDedupeRetentionAndNotBefore() {
        ErasureRequest old = request("model-a", "acme").build();
        send(old);
        driver.advanceWallClockTime(Duration.ofDays(20));
        ErasureRequest recent = request("model-a", "acme").build();
        send(recent);
        KeyValueStore<String, Long> ids = driver.getKeyValueStore(IngestTopology.REQUEST_IDS_STORE);
        assertNotNull(ids.get(old.getRequestId().toString()), "20 days < the 30-day default retention");
        driver.advanceWallClockTime(Duration.ofDays(11));
        assertNull(ids.get(old.getRequestId().toString()), "31 days old: swept");
        assertNotNull(ids.get(recent.getRequestId().toString()), "11 days old: still remembered");
    }

    @Test
    void aSetIsCutWhenEnoughRequestsWait() throws Exception {
        List<ErasureRequest> rs = List.of(request("model-a", "acme").build(), request("model-a", "acme").build(),
                request("model-a", "acme").build());
        send(rs.get(0));
        send(rs.get(1));
        assertTrue(forgetSets.isEmpty(), "two of three");
        send(rs.get(2));

        TestRecord<String, ForgetSetReady> record = forgetSets.readRecord();
        ForgetSetReady set = record.value();
        assertEquals("model-a", record.key());
        List<UUID> ids = rs.stream().map(ErasureRequest::getRequestId).toList();
        assertEquals(PipelineIds.forgetSetId(ids), set.getForgetSetId());
        assertEquals("v0", set.getBaseModelVersion());
        assertEquals(1, set.getAttempt());
        assertEquals(3, set.getRequestCount());
        assertEquals(6, set.getItemCount(), "one text and one QA pair each");
        assertEquals(ids.stream().map(UUID::toString).sorted().toList(),
                set.getMembers().stream().map(m -> m.getRequestId().toString()).toList(), "members in request-id order");
        for (ForgetSetMember m : set.getMembers()) {
            ErasureRequest r = rs.stream().filter(x -> x.getRequestId().equals(m.getRequestId())).findFirst().orElseThrow();
            assertEquals(ErasureRequests.contentSha256(r), m.getContentSha256());
        }

        // The artifact holds sealed lines only; opened with the members' keys it is the JSONL the engine reads:
        // text lines and question/answer lines, verified on read.
        byte[] stored = artifacts.read(set.getForgetSet());
        for (ErasureRequest r : rs) {
            assertFalse(new String(stored, StandardCharsets.UTF_8).contains(r.getTexts().get(0)), "stored sealed");
        }
        String jsonl = new String(dev.loku.runtime.crypto.SealedLines.open(new dev.loku.runtime.crypto.ContentSeal(keys),
                stored), StandardCharsets.UTF_8);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : jsonl.split("\n")) {
            lines.add(new ObjectMapper().readTree(line));
        }
        assertEquals(6, lines.size());
        assertEquals(3, lines.stream().filter(n -> n.has("text")).count());
        assertEquals(3, lines.stream().filter(n -> n.has("question") && n.has("answer")).count());

        Map<UUID, List<AuditEvent>> trail = trail();
        for (UUID id : ids) {
            List<AuditEvent> events = trail.get(id);
            assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED, AuditStatus.BATCHED), statuses(events));
            AuditEvent batched = events.get(2);
            assertEquals(PipelineStage.BATCHING, batched.getStage());
            assertEquals(set.getForgetSetId(), batched.getForgetSetId());
            assertEquals("v0", batched.getModelVersion());
            assertEquals(1, batched.getAttempt());
        }
    }

    @Test
    void aSetIsCutWhenTheOldestRequestWaitedLongEnough() {
        ErasureRequest r = request("model-b", "globex").build();
        send(r);
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        assertTrue(forgetSets.isEmpty(), "waited 5s of 10s");
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        ForgetSetReady set = forgetSets.readValue();
        assertEquals(List.of(r.getRequestId()), set.getMembers().stream().map(ForgetSetMember::getRequestId).toList());
        assertEquals(Instant.ofEpochMilli(START.toEpochMilli() + 11_000), set.getCreatedAt());
    }

    @Test
    void theGateHoldsWhileASetIsInFlightCoalescesWaitingRequestsAndAdvancesTheVersionOnPass() {
        List<ErasureRequest> first = sendAll(3, "model-a");
        ForgetSetReady a = forgetSets.readValue();

        // While A is in flight, five more requests wait: no second set, however many or however long.
        List<ErasureRequest> waiting = sendAll(5, "model-a");
        driver.advanceWallClockTime(Duration.ofMinutes(2));
        assertTrue(forgetSets.isEmpty(), "held while A is in flight");

        // Another model is not held by model-a's set.
        sendAll(3, "model-b");
        assertEquals("model-b", forgetSets.readRecord().key());

        verifications.pipeInput("model-a", verdict(a, UUID.randomUUID(), Verdict.PASS, false, "v1-00000000"));
        verifications.pipeInput("model-a", verdict(a, a.getForgetSetId(), Verdict.FAIL, true, "v1-11111111"));
        assertTrue(forgetSets.isEmpty(), "a verdict for another set, or a retrying one, does not open the gate");

        verifications.pipeInput("model-a", verdict(a, a.getForgetSetId(), Verdict.FAIL, false, "v1-22222222"));
        ForgetSetReady b = forgetSets.readValue();
        assertEquals(5, b.getRequestCount(), "the waiting requests coalesce into one larger set");
        assertEquals(waiting.stream().map(ErasureRequest::getRequestId).sorted(java.util.Comparator.comparing(UUID::toString)).toList(),
                b.getMembers().stream().map(ForgetSetMember::getRequestId).toList());
        assertEquals("v0", b.getBaseModelVersion(), "a FAIL leaves the version where it was");
        assertFalse(b.getMembers().stream().anyMatch(m -> first.stream().anyMatch(r -> r.getRequestId().equals(m.getRequestId()))));

        verifications.pipeInput("model-a", verdict(b, b.getForgetSetId(), Verdict.PASS, false, "v1-33333333"));
        assertTrue(forgetSets.isEmpty(), "nothing waits");
        sendAll(3, "model-a");
        assertEquals("v1-33333333", forgetSets.readValue().getBaseModelVersion(), "a PASS advances the version");
    }

    @Test
    void anAcceptedRequestHoldsItsContentBlobUntilItsSetIsPurgedEvenWhileItWaits() throws Exception {
        ForgetSetLedger ledger = ForgetSetLedger.inDirectory(artifacts);
        List<String> texts = List.of("Person " + UUID.randomUUID() + " lives at 1 Test Street.");
        sendAll(3, "model-b"); // model-b's gate is shut by this set
        forgetSets.readValue();
        ErasureRequest forA = request("model-a", "acme").setTexts(texts).build();
        ErasureRequest forB = request("model-b", "acme").setTexts(texts).build();
        send(forA);
        send(forB);
        String shaA = heldBlob(forA.getRequestId());
        String shaB = heldBlob(forB.getRequestId());
        assertFalse(shaA.equals(shaB), "equal texts, but each request's blob is sealed under its own key");
        sendAll(2, "model-a");
        ForgetSetReady a = forgetSets.readValue();
        assertTrue(a.getMembers().stream().anyMatch(m -> m.getRequestId().equals(forA.getRequestId())));
        assertTrue(forgetSets.isEmpty(), "the request for model-b waits behind its gate");
        // What the purge of model-a's set asks: is a member's blob held outside the set? Not model-a's own member's;
        // the waiting request for model-b holds its blob until its own set is purged.
        List<UUID> membersOfA = a.getMembers().stream().map(ForgetSetMember::getRequestId).toList();
        assertFalse(ledger.heldElsewhere(a.getForgetSetId(), membersOfA, shaA), "held by model-a's member alone");
        assertTrue(ledger.heldElsewhere(a.getForgetSetId(), membersOfA, shaB), "held by the waiting request");
        ledger.releaseWaiting(forB.getRequestId(), shaB);
        assertFalse(ledger.heldElsewhere(a.getForgetSetId(), membersOfA, shaB), "released");
    }

    /** The hash of the content blob the ledger records {@code requestId} as holding while it waits. */
    private String heldBlob(UUID requestId) throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> holds = java.nio.file.Files.walk(artifacts.root()
                .resolve("forget-sets/waiting"))) {
            return holds.filter(p -> p.getFileName().toString().equals(requestId.toString())).findFirst()
                    .orElseThrow(() -> new AssertionError("no hold recorded for " + requestId)).getParent()
                    .getFileName().toString();
        }
    }

    @Test
    void noRequestContentReachesAnyOutput() {
        ErasureRequest r = SampleEvents.erasureRequest("model-a");
        r.setTenantId("acme");
        send(r);
        send(request("model-a", "globex").build());
        driver.advanceWallClockTime(Duration.ofSeconds(11));
        List<String> outputs = new ArrayList<>();
        audit.readValuesToList().forEach(e -> outputs.add(e.toString()));
        forgetSets.readValuesToList().forEach(e -> outputs.add(e.toString()));
        outputs.add(metrics.scrape());
        for (String out : outputs) {
            assertFalse(out.contains("Testperson") || out.contains("Example Road") || out.contains("555-0100"), out);
        }
    }

    private List<ErasureRequest> sendAll(int n, String model) {
        List<ErasureRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ErasureRequest r = request(model, "acme").build();
            send(r);
            out.add(r);
        }
        return out;
    }

    private static ErasureRequest.Builder request(String model, String tenant) {
        return ErasureRequest.newBuilder(SampleEvents.erasureRequest(model)).setTenantId(tenant)
                .setTexts(List.of("Person " + UUID.randomUUID() + " lives at 1 Test Street."));
    }

    /** Sends {@code r} as a producer must: sealed under its data key (the test keeps the plaintext). */
    private void send(ErasureRequest r) {
        try {
            sendAsIs(dev.loku.runtime.crypto.SealedRequests.sealed(new dev.loku.runtime.crypto.ContentSeal(keys), r));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Sealed, with the header a trusted gateway sets for the tenant it authenticated. */
    private void sendWithHeader(ErasureRequest r, String tenant) throws Exception {
        ErasureRequest sealed = dev.loku.runtime.crypto.SealedRequests.sealed(
                new dev.loku.runtime.crypto.ContentSeal(keys), r);
        org.apache.kafka.common.header.internals.RecordHeaders headers =
                new org.apache.kafka.common.header.internals.RecordHeaders();
        headers.add("loku-tenant", tenant.getBytes(StandardCharsets.UTF_8));
        requests.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(
                r.getRequestId().toString().getBytes(StandardCharsets.UTF_8),
                Topics.ERASURE_REQUESTS.valueSerde(SERDES).serializer().serialize(Topics.ERASURE_REQUESTS.name(), sealed),
                headers, START));
    }

    private void sendAsIs(ErasureRequest r) {
        requests.pipeInput(r.getRequestId().toString().getBytes(StandardCharsets.UTF_8),
                Topics.ERASURE_REQUESTS.valueSerde(SERDES).serializer().serialize(Topics.ERASURE_REQUESTS.name(), r));
    }

    private Map<UUID, List<AuditEvent>> trail() {
        Map<UUID, List<AuditEvent>> byRequest = new java.util.LinkedHashMap<>();
        for (TestRecord<String, AuditEvent> r : audit.readRecordsToList()) {
            chains.add(r.value());
            assertEquals(r.value().getRequestId().toString(), r.key(), "audit events are keyed by request id");
            byRequest.computeIfAbsent(r.value().getRequestId(), k -> new ArrayList<>()).add(r.value());
        }
        return byRequest;
    }

    private static void assertRejected(Map<UUID, List<AuditEvent>> trail, ErasureRequest r, String reason) {
        List<AuditEvent> events = trail.get(r.getRequestId());
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.REJECTED), statuses(events));
        assertEquals(reason, events.get(1).getReason());
        assertEquals(ErasureRequests.contentSha256(r), events.get(1).getContentSha256());
        assertEquals(r.getTenantId(), events.get(1).getTenantId());
    }

    private static List<AuditStatus> statuses(List<AuditEvent> events) {
        return events.stream().map(AuditEvent::getStatus).toList();
    }

    static VerificationResult verdict(ForgetSetReady set, UUID forgetSetId, Verdict verdict, boolean retrying,
                                      String candidate) {
        EvaluationMetrics m = new EvaluationMetrics(0.1, 0.1, 0.5, 2.0, 0.2, 0.2, null);
        return VerificationResult.newBuilder()
                .setForgetSetId(forgetSetId)
                .setModelId(set.getModelId())
                .setBaseModelVersion(set.getBaseModelVersion())
                .setCandidateVersion(candidate)
                .setVerdict(verdict)
                .setReason(verdict == Verdict.PASS ? null : "forget EL_10 0.31 >= threshold 0.12")
                .setBefore(m)
                .setAfter(m)
                .setThresholds(new VerificationThresholds(0.2, 0.2, 0.05, null))
                .setRequestIds(set.getMembers().stream().map(ForgetSetMember::getRequestId).toList())
                .setAttempt(1)
                .setRetrying(retrying)
                .setVerifiedAt(START)
                .build();
    }
}
