package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.eval.EngineCandidateEvaluator;
import dev.loku.eval.EvalConfig;
import dev.loku.eval.EvalService;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.DeadLetter;
import dev.loku.events.ErasureRequest;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ModelVersionPromoted;
import dev.loku.events.QaPair;
import dev.loku.events.UnlearnCompleted;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.fisher.EngineImportanceEstimator;
import dev.loku.fisher.FisherConfig;
import dev.loku.fisher.FisherService;
import dev.loku.ingest.IngestConfig;
import dev.loku.ingest.IngestService;
import dev.loku.runtime.crypto.SealedRequests;
import dev.loku.runtime.embedded.EmbeddedStack;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.job.JobWorkDir;
import dev.loku.runtime.kafka.TopicCatchUp;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.service.Service;
import dev.loku.runtime.testing.PipelineFixtures;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.runtime.testing.TcpProxy;
import dev.loku.runtime.testing.TestClients;
import dev.loku.runtime.testing.WithLokuStack;
import dev.loku.schemas.Topic;
import dev.loku.schemas.Topics;
import dev.loku.worker.EngineUnlearningRunner;
import dev.loku.worker.WorkerConfig;
import dev.loku.worker.WorkerService;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

/**
 * The fault matrix (docs/reliability.md): the four services with the REAL engine on stories260K (1 epoch, one
 * attempt), on the real broker and registry, each case on its own model so their gates do not queue. Every case ends
 * with the same checks: every request in exactly one terminal state (VERIFIED, REJECTED or FAILED), at most one
 * version promoted per forget set and exactly one when its final verdict is PASS, and, after the last case, nothing
 * of the forget text in any audit event, dead letter, metric scrape, log line or artifact left in the store. Each case
 * records a row (what happened, seconds to terminal, attempts, versions promoted) in
 * {@code target/reliability.json} and {@code target/reliability.md}, from which docs/reliability.md is copied.
 */
@WithLokuStack
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultMatrixIT {

    /** ingest.forget.set.max.requests (and ingest.batch.max.requests): the most requests one forget set holds. */
    private static final int SET_CAP = 250;
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Set<AuditStatus> TERMINAL = EnumSet.of(AuditStatus.VERIFIED, AuditStatus.REJECTED,
            AuditStatus.FAILED);

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger ours = (Logger) LoggerFactory.getLogger("dev.loku");
    private ch.qos.logback.classic.Level oursBefore;
    private final List<Service> services = new CopyOnWriteArrayList<>();
    private final Map<Class<?>, TopicCatchUp<String, ? extends SpecificRecord>> readers = new HashMap<>();
    private final Map<Class<?>, List<?>> seen = new HashMap<>();
    private final ArrayNode rows = CliJson.MAPPER.createArrayNode();

    private StackEndpoints stack;
    private EmbeddedStack embedded;
    private RegistrySerdes serdes;
    private PipelineFixtures fx;
    private Path dir;
    private Service worker;
    private Service ingestService;
    private Map<String, String> ingestSettings;
    /** The logs of every worker JVM the cases started, for the privacy check. */
    private final List<Path> workerJvmLogs = new ArrayList<>();
    private String run;
    private KafkaProducer<String, ErasureRequest> requests;
    private KafkaProducer<String, byte[]> raw;

    @BeforeAll
    void startPipeline(StackEndpoints stack, RegistrySerdes serdes, EmbeddedStack embedded) throws Exception {
        this.stack = stack;
        this.embedded = embedded;
        this.serdes = serdes;
        logs.start();
        root.addAppender(logs);
        oursBefore = ours.getLevel();
        ours.setLevel(ch.qos.logback.classic.Level.INFO);
        Path projectRoot = Path.of(System.getProperty("loku.project.root", ".."));
        dir = Files.createTempDirectory("loku-fault-matrix");
        fx = PipelineFixtures.create(dir, projectRoot.resolve("models/stories260K/stories260K.bin"), 1,
                "fm-poison", "fm-corrupt", "fm-truncated", "fm-duplicate", "fm-subject", "fm-load-a", "fm-load-b",
                "fm-killed", "fm-restart", "fm-registry", "fm-epochs", "fm-reset", "fm-store");
        memorisingModel("fm-epochs", request("fm-epochs", "epochs", 0));
        run = UUID.randomUUID().toString().substring(0, 8);
        // Unseen text of the kind stories260K was trained on, so its EL_10 threshold is above 0 and a candidate can pass.
        Files.writeString(dir.resolve("data/unseen.jsonl"), """
                {"text":"Once upon a time, there was a little girl named Lily. She loved to play outside in the sun."}
                {"text":"One day, a big dog came to the park. The dog was very happy and wanted to play with the ball."}
                """);

        ingestSettings = settings("ingest-1");
        Map<String, String> ingest = ingestSettings;
        ingest.put("ingest.application.id", "fm-ingest-" + run);
        ingest.put("ingest.state.dir", dir.resolve("ingest-state").toString());
        // Sets of up to 250 requests: the small cases are cut by the wait, the load case by the size.
        ingest.put("ingest.batch.max.requests", Integer.toString(SET_CAP));
        ingest.put("ingest.forget.set.max.requests", Integer.toString(SET_CAP));
        ingest.put("ingest.batch.max.wait", "3s");
        ingest.put("ingest.batch.check.interval", "100ms");
        ingestService = new IngestService(IngestConfig.of(ingest));
        start(ingestService);
        FisherConfig fisher = FisherConfig.of(engine("fisher", dir));
        start(FisherService.create(fisher, EngineImportanceEstimator.forConfig(fisher)));
        worker = worker("worker-1");
        start(worker);
        Map<String, String> e = engine("eval", dir);
        e.put("eval.purge.group.id", "fm-eval-purge-" + run);
        EvalConfig eval = EvalConfig.of(e);
        start(EvalService.create(eval, EngineCandidateEvaluator.forConfig(eval)));
        requests = TestClients.producer(stack, Topics.ERASURE_REQUESTS.keySerde().serializer(),
                serdes.valueSerializer(Topics.ERASURE_REQUESTS));
        raw = TestClients.producer(stack, new StringSerializer(), new ByteArraySerializer());
        waitFor(() -> services.stream().allMatch(s -> s.health().isUp()), "every service up");
    }

    @AfterAll
    void stopPipeline() throws Exception {
        services.forEach(Service::stop);
        readers.values().forEach(TopicCatchUp::close);
        if (requests != null) {
            requests.close();
            raw.close();
        }
        root.detachAppender(logs);
        ours.setLevel(oursBefore);
        writeReport();
    }

    @Test
    @Order(1)
    void aPoisonRecordOnAJobTopicFailsTheSetInFlightWithAReasonAndReopensTheGate() throws Exception {
        long t0 = System.nanoTime();
        List<ErasureRequest> sent = submit("fm-poison", "poison", 1);
        waitFor(() -> statuses(sent.get(0)).contains(AuditStatus.BATCHED), "the set cut");
        // Bytes no stage can decode, on the worker's input, keyed like the model's job records.
        raw.send(new ProducerRecord<>(Topics.IMPORTANCE.name(), "fm-poison",
                "\u0000not an avro record".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
        awaitTerminal(sent);
        AuditEvent end = terminal(sent.get(0));
        assertEquals(AuditStatus.FAILED, end.getStatus(), "the set in flight is failed: " + end);
        assertTrue(end.getReason().contains("undecodable record on loku.importance")
                && end.getReason().contains("dead-lettered"), end.getReason());
        // The stack's broker is shared with other test classes: count this model's poison record only.
        assertEquals(1, deadLetters(d -> d.getSourceTopic().equals(Topics.IMPORTANCE.name())
                && keyedBy(d, "fm-poison")).size());
        double failed = seconds(t0);

        long t1 = System.nanoTime();
        List<ErasureRequest> next = submit("fm-poison", "after-poison", 1);
        awaitTerminal(next);
        assertTrue(statuses(next.get(0)).contains(AuditStatus.BATCHED), "the gate reopened: the next set was cut");
        checkInvariants("fm-poison", concat(sent, next));
        row("(f) poison record on loku.importance while a set is in flight",
                "set FAILED by ingest (an undecodable record on its job topic was dead-lettered while it was in "
                        + "flight); gate reopened, next set " + ending(next.get(0)), failed + seconds(t1), "fm-poison", concat(sent, next));
    }

    @Test
    @Order(2)
    void aCorruptOrTruncatedContentArtifactFailsItsRequestAtTheCutAndTheDamagedBytesAreDeleted() throws Exception {
        for (boolean truncate : List.of(false, true)) {
            String model = truncate ? "fm-truncated" : "fm-corrupt";
            long t0 = System.nanoTime();
            List<ErasureRequest> sent = submit(model, truncate ? "truncated" : "corrupt", 1);
            waitFor(() -> statuses(sent.get(0)).contains(AuditStatus.ACCEPTED), "accepted");
            // The batcher cuts after ingest.batch.max.wait (3 s): damage the content artifact before that.
            Path blob = blob(terminalOrAccepted(sent.get(0)));
            byte[] bytes = Files.readAllBytes(blob);
            if (truncate) {
                Files.write(blob, java.util.Arrays.copyOf(bytes, bytes.length / 2));
            } else {
                bytes[bytes.length / 2] ^= 0x20;
                Files.write(blob, bytes);
            }
            awaitTerminal(sent);
            AuditEvent end = terminal(sent.get(0));
            assertEquals(AuditStatus.FAILED, end.getStatus());
            assertEquals("the request's content artifact is missing or corrupt", end.getReason());
            assertFalse(Files.exists(blob), "the damaged bytes are deleted");
            checkInvariants(model, sent);
            row(truncate ? "(e) content artifact truncated before the cut" : "(e) content artifact corrupted (checksum mismatch) before the cut",
                    "request FAILED at BATCHING (content artifact missing or corrupt), damaged blob deleted, no set cut",
                    seconds(t0), model, sent);
        }
    }

    @Test
    @Order(3)
    void theSameRequestIdTwiceMakesOneTrailAndTheSameSubjectInTwoRequestsEndsBoth() throws Exception {
        long t0 = System.nanoTime();
        List<ErasureRequest> sent = submit("fm-duplicate", "duplicate", 1);
        send(sent.get(0));
        awaitPurged(sent);
        assertEquals(1, statuses(sent.get(0)).stream().filter(s -> s == AuditStatus.RECEIVED).count(),
                "the re-sent id is dropped");
        checkInvariants("fm-duplicate", sent);
        row("(g) the same request id sent twice", "second copy dropped by ingest's dedupe: one trail, one set, "
                + ending(sent.get(0)), seconds(t0), "fm-duplicate", sent);

        long t1 = System.nanoTime();
        // Two requests of one subject with the same record: each sealed under its own key, both members of one set.
        ErasureRequest a = request("fm-subject", "subject", 0);
        ErasureRequest b = ErasureRequest.newBuilder(a).setRequestId(UUID.randomUUID()).build();
        for (ErasureRequest r : List.of(a, b)) {
            send(r);
        }
        List<ErasureRequest> both = List.of(a, b);
        awaitPurged(both);
        assertEquals(terminal(a).getForgetSetId(), terminal(b).getForgetSetId(), "one forget set");
        checkInvariants("fm-subject", both);
        row("(g) the same subject (equal content) in two requests", "both in one set, each ended once: "
                + ending(a), seconds(t1), "fm-subject", both);
    }

    @Test
    @Order(4)
    void aThousandRequestsForTwoModelsAtOnceAllEndOnceInCappedSetsWithOneVersionEach() throws Exception {
        long t0 = System.nanoTime();
        Map<String, List<ErasureRequest>> byModel = new java.util.LinkedHashMap<>();
        List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            String model = i % 2 == 0 ? "fm-load-a" : "fm-load-b";
            ErasureRequest r = request(model, "load", i);
            byModel.computeIfAbsent(model, k -> new ArrayList<>()).add(r);
            acks.add(requests.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), r.getRequestId().toString(),
                    SealedRequests.sealed(fx.stores().seal(), r))));
        }
        for (java.util.concurrent.Future<?> ack : acks) {
            ack.get(60, TimeUnit.SECONDS);
        }
        double sentIn = seconds(t0);
        List<ErasureRequest> all = concat(byModel.get("fm-load-a"), byModel.get("fm-load-b"));
        // Each model's 500 requests queue behind its gate and are cut one set at a time, none over the cap: two sets
        // of 250 when all 500 arrive within the 3 s wait, more when a loaded machine lets the wait cut a first,
        // smaller set while the rest still come in.
        waitFor(() -> statusesOf(all).values().stream().allMatch(t -> t.contains(AuditStatus.PURGED)),
                "PURGED for all 1,000 requests", Duration.ofMinutes(8));
        double done = seconds(t0);
        Map<java.util.UUID, List<AuditStatus>> trails = statusesOf(all);
        assertEquals(1000, trails.size(), "nothing lost");
        for (Map.Entry<java.util.UUID, List<AuditStatus>> t : trails.entrySet()) {
            assertEquals(1, t.getValue().stream().filter(TERMINAL::contains).count(), t.getKey() + ": " + t.getValue());
            assertEquals(1, t.getValue().stream().filter(x -> x == AuditStatus.BATCHED).count(), "one set each");
        }
        Map<String, List<Long>> setSizes = new java.util.TreeMap<>();
        for (Map.Entry<String, List<ErasureRequest>> m : byModel.entrySet()) {
            Map<UUID, Long> sets = new HashMap<>();
            read(Topics.AUDIT, AuditEvent.class, e -> e.getModelId() != null && e.getModelId().equals(m.getKey())
                    && e.getStatus() == AuditStatus.BATCHED).forEach(e -> sets.merge(e.getForgetSetId(), 1L, Long::sum));
            assertEquals(500, sets.values().stream().mapToLong(Long::longValue).sum(), m.getKey() + " sets: " + sets);
            assertTrue(sets.size() >= 2, "500 requests need at least 2 sets of at most " + SET_CAP + ": " + sets);
            assertTrue(sets.values().stream().allMatch(n -> n <= SET_CAP), m.getKey() + " set sizes: " + sets);
            checkInvariants(m.getKey(), m.getValue());
            assertEquals(sets.size(), promotions(m.getKey()).size(), "one version per set of " + m.getKey());
            setSizes.put(m.getKey(), sets.values().stream().sorted().toList());
        }
        row("(g) 1,000 requests for two models at once", String.format(java.util.Locale.ROOT,
                "sent in %.1f s; each model's 500 cut one set at a time while its gate held the rest (set sizes %s, "
                        + "cap %d); every request %s once, each set one version", sentIn, setSizes, SET_CAP,
                ending(all.get(0))), done, List.copyOf(byModel.keySet()), all);
    }

    /** Each request's statuses, from one read of the trail. */
    private Map<UUID, List<AuditStatus>> statusesOf(List<ErasureRequest> sent) {
        java.util.Set<UUID> ids = new java.util.HashSet<>();
        sent.forEach(r -> ids.add(r.getRequestId()));
        Map<UUID, List<AuditStatus>> out = new HashMap<>();
        for (AuditEvent e : read(Topics.AUDIT, AuditEvent.class, e -> ids.contains(e.getRequestId()))) {
            out.computeIfAbsent(e.getRequestId(), k -> new ArrayList<>()).add(e.getStatus());
        }
        return out;
    }

    @Test
    @Order(5)
    void aWorkerJvmKilledMidJobLeavesNothingCommittedAndAnotherInstanceRunsTheJobToOneVersion() throws Exception {
        // The in-process worker leaves the group, so the job can only go to the worker JVM started here.
        worker.stop();
        services.remove(worker);
        Path childDir = dir.resolve("killed-worker");
        Process child = startWorkerJvm(childDir, workerSettings("worker-jvm"));
        Path killedWorkerLog = childDir.resolve("stderr.txt");
        long t0 = System.nanoTime();
        List<ErasureRequest> sent;
        try {
            sent = submit("fm-killed", "killed", 1);
            waitFor(() -> !child.isAlive() || readQuietly(killedWorkerLog).contains("event=unlearning_started"),
                    "the worker JVM to start the job", Duration.ofMinutes(3));
            assertTrue(child.isAlive(), "the worker JVM exited by itself:\n" + readQuietly(killedWorkerLog));
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no clean leave of the group, no commit
        }
        assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the killed JVM is gone");
        double killedAt = seconds(t0);
        assertEquals(137, child.exitValue(), "killed by SIGKILL (128 + 9)");
        assertEquals(List.of(), candidates("fm-killed"), "nothing committed by the killed worker");
        assertTrue(statuses(sent.get(0)).contains(AuditStatus.UNLEARNING), "its UNLEARNING heartbeat went out");

        // A new instance joins; the group hands it the partition once the dead member's session (6 s) expires.
        worker = worker("worker-2");
        start(worker);
        awaitPurged(sent);
        double done = seconds(t0);
        checkInvariants("fm-killed", sent);
        assertEquals(1, promotions("fm-killed").size(), "exactly one version promoted");
        assertEquals(1, candidates("fm-killed").size(), "one candidate, from the new instance");
        assertEquals(Verdict.PASS, verdicts("fm-killed").get(0).getVerdict());
        row("(a) worker JVM SIGKILLed mid-job", String.format(java.util.Locale.ROOT,
                "killed %.1f s after the request, once it had logged unlearning_started: exit 137, nothing committed; "
                        + "a new instance ran the job from the start after the dead member's 6 s session: %s",
                killedAt, ending(sent.get(0))), done, "fm-killed", sent);
    }

    @Test
    @Order(6)
    void aBrokerRestartedWhileAJobIsInFlightLosesNothingAndTheSetEndsOnce() throws Exception {
        long t0 = System.nanoTime();
        List<ErasureRequest> sent = submit("fm-restart", "restart", 1);
        // The Fisher pass of the set has begun: its commit will fall in the outage.
        waitFor(() -> logged("event=importance_started", "model=fm-restart"), "the set's Fisher job to start");
        double stoppedAt = seconds(t0);
        embedded.kafka().restartBroker(Duration.ofSeconds(5));
        double backAt = seconds(t0);
        awaitPurged(sent);
        double done = seconds(t0);
        checkInvariants("fm-restart", sent);
        assertEquals(1, promotions("fm-restart").size(), "exactly one version promoted");
        for (Service s : services) {
            assertTrue(s.health().isUp(), s.name() + " is up after the restart: " + s.health());
        }
        row("(b) broker restarted while a job is in flight", String.format(java.util.Locale.ROOT,
                "broker stopped %.1f s after the request, as the set's Fisher job started; down 5 s, serving again at "
                        + "%.1f s; every service stayed up, the jobs committed once it was back: %s once, one version",
                stoppedAt, backAt, ending(sent.get(0))), done, "fm-restart", sent);
    }

    @Test
    @Order(7)
    void aRegistryOutOfReachMakesTheColdWorkerWaitNotFailAndTheSetEndsOnceWhenItIsBack() throws Exception {
        java.net.URI registry = java.net.URI.create(stack.ccompatUrl());
        try (TcpProxy proxy = TcpProxy.start(registry.getHost(), registry.getPort())) {
            // A new worker reaches the registry only through the proxy, which is cut: its serdes have no schema
            // cached, so the job's input cannot be decoded until the registry is back.
            worker.stop();
            services.remove(worker);
            proxy.cut();
            Map<String, String> settings = workerSettings("worker-3");
            settings.put("registry.url", new java.net.URI(registry.getScheme(), null, registry.getHost(), proxy.port(),
                    registry.getPath(), null, null).toString());
            WorkerConfig config = WorkerConfig.of(settings);
            worker = WorkerService.create(config, EngineUnlearningRunner.forConfig(config));
            start(worker);
            long t0 = System.nanoTime();
            List<ErasureRequest> sent = submit("fm-registry", "registry", 1);
            waitFor(() -> logged("event=registry_unavailable", "service=worker"),
                    "the worker to meet the unreachable registry");
            Thread.sleep(5_000); // out of reach for a while: a few more retries
            double cutFor = seconds(t0);
            long waits = logs.list.stream().filter(e -> e.getFormattedMessage().contains("event=registry_unavailable"))
                    .count();
            assertFalse(statuses(sent.get(0)).stream().anyMatch(TERMINAL::contains),
                    "nothing failed while the registry was out of reach: " + statuses(sent.get(0)));
            assertEquals(List.of(), deadLetters(d -> d.getSourceTopic().equals(Topics.IMPORTANCE.name())
                    && keyedBy(d, "fm-registry")), "the job's input was not dead-lettered");
            proxy.restore();
            awaitPurged(sent);
            double done = seconds(t0);
            checkInvariants("fm-registry", sent);
            assertEquals(1, promotions("fm-registry").size(), "exactly one version promoted");
            row("(c) registry out of reach of a cold worker", String.format(java.util.Locale.ROOT,
                    "the new worker could not fetch the job's schema for %.1f s (%d waits logged, each pause doubled); "
                            + "nothing failed or was dead-lettered; once the registry answered, the job ran: %s once, "
                            + "one version", cutFor, waits, ending(sent.get(0))), done, "fm-registry", sent);
        }
    }

    @Test
    @Order(8)
    void aWorkerJvmKilledBetweenEpochsIsResumedByTheNextOwnerAfterTheLastSavedEpoch() throws Exception {
        // The model of this case memorised the request's text, so its job trains for several epochs (the others stop
        // at epoch 0), and both workers keep epoch checkpoints in one folder, as the k8s manifests share one volume.
        worker.stop();
        services.remove(worker);
        Path checkpoints = dir.resolve("epoch-checkpoints");
        Path childDir = dir.resolve("worker-between-epochs");
        Process child = startWorkerJvm(childDir, multiEpochWorkerSettings("worker-jvm-2", checkpoints));
        long t0 = System.nanoTime();
        List<ErasureRequest> sent = List.of(request("fm-epochs", "epochs", 0));
        try {
            send(sent.get(0));
            waitFor(() -> !child.isAlive() || savedEpochs(checkpoints) > 0, "the worker JVM to save an epoch",
                    Duration.ofMinutes(3));
            assertTrue(child.isAlive(), "the job ended before an epoch was saved:\n"
                    + readQuietly(childDir.resolve("stderr.txt")));
        } finally {
            child.destroyForcibly(); // SIGKILL between two epochs: the last one saved, the next one under way
        }
        assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the killed JVM is gone");
        double killedAt = seconds(t0);
        assertEquals(137, child.exitValue(), "killed by SIGKILL (128 + 9)");
        assertEquals(List.of(), candidates("fm-epochs"), "nothing committed by the killed worker");

        // The partition's next owner reads the job again and finds the checkpoint in the shared folder.
        WorkerConfig next = WorkerConfig.of(multiEpochWorkerSettings("worker-5", checkpoints));
        worker = WorkerService.create(next, EngineUnlearningRunner.forConfig(next));
        start(worker);
        awaitPurged(sent);
        double done = seconds(t0);
        checkInvariants("fm-epochs", sent);
        String resumed = firstLogged("event=unlearn_resumed")
                .orElseThrow(() -> new AssertionError("the new worker did not resume from the checkpoint"));
        java.util.regex.Matcher from = java.util.regex.Pattern.compile("from_epoch=(\\d+)").matcher(resumed);
        assertTrue(from.find(), resumed);
        int fromEpoch = Integer.parseInt(from.group(1));
        List<UnlearnCompleted> candidates = candidates("fm-epochs");
        assertEquals(1, candidates.size(), "one candidate, from the new owner");
        UnlearnCompleted candidate = candidates.get(0);
        // The candidate reports every epoch once (they count from 1), the restored ones and those trained after the
        // kill, in order.
        List<Integer> epochs = candidate.getEpochs().stream().map(e -> e.getEpoch()).toList();
        assertEquals(java.util.stream.IntStream.rangeClosed(1, candidate.getStoppedAtEpoch()).boxed().toList(), epochs);
        assertTrue(candidate.getStoppedAtEpoch() > fromEpoch, "trained on after the saved epoch: " + epochs);
        VerificationResult verdict = verdicts("fm-epochs").get(0);
        assertEquals(verdict.getVerdict() == Verdict.PASS ? 1 : 0, promotions("fm-epochs").size());
        try (Stream<Path> left = Files.walk(checkpoints)) {
            assertEquals(List.of(), left.filter(Files::isRegularFile).toList(), "the job's checkpoints are deleted");
        }
        row("(a) worker JVM SIGKILLed between epochs", String.format(java.util.Locale.ROOT,
                "killed %.1f s after the request, once it had saved an epoch: exit 137, nothing committed; the next "
                        + "owner resumed after epoch %d (event=unlearn_resumed) and stopped at epoch %d, the "
                        + "candidate reporting epochs 1..%d once each; checkpoints deleted: %s, verdict %s",
                killedAt, fromEpoch, candidate.getStoppedAtEpoch(), candidate.getStoppedAtEpoch(),
                ending(sent.get(0)), verdict.getVerdict()), done, "fm-epochs", sent);
    }

    @Test
    @Order(9)
    void anIngestWhoseStateIsResetStartsTheNextSetFromThePromotedVersionNotTheOriginal() throws Exception {
        long t0 = System.nanoTime();
        List<ErasureRequest> first = submit("fm-reset", "before-reset", 1);
        awaitPurged(first);
        assertEquals(AuditStatus.VERIFIED, terminal(first.get(0)).getStatus(), ending(first.get(0)));
        String served = promotions("fm-reset").get(0).getVersion().toString();
        double before = seconds(t0);

        // Ingest's state emptied as a lost volume plus a reset of its internal topics would leave it: the service
        // stopped, its local state folder deleted and its changelog topics deleted (input offsets kept, so the
        // requests it already took are not replayed). Its stores, the batcher's current version among them, restart
        // empty: what they knew of fm-reset is gone.
        ingestService.stop();
        services.remove(ingestService);
        JobWorkDir.deleteRecursively(Path.of(ingestSettings.get("ingest.state.dir")));
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()))) {
            String app = ingestSettings.get("ingest.application.id") + "-";
            Set<String> changelogs = admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                    .filter(t -> t.startsWith(app) && t.endsWith("-changelog")).collect(Collectors.toSet());
            assertFalse(changelogs.isEmpty(), "ingest's changelog topics");
            admin.deleteTopics(changelogs).all().get(30, TimeUnit.SECONDS);
            waitFor(() -> {
                try {
                    return admin.listTopics().names().get(30, TimeUnit.SECONDS).stream().noneMatch(changelogs::contains);
                } catch (Exception e) {
                    return false;
                }
            }, "the changelog topics deleted");
        }
        ingestService = new IngestService(IngestConfig.of(ingestSettings));
        start(ingestService);
        waitFor(() -> ingestService.health().isUp(), "the reset ingest up");

        long t1 = System.nanoTime();
        List<ErasureRequest> next = submit("fm-reset", "after-reset", 1);
        awaitPurged(next);
        ForgetSetReady set = read(Topics.FORGET_SETS, ForgetSetReady.class,
                f -> f.getForgetSetId().equals(terminal(next.get(0)).getForgetSetId())).get(0);
        assertEquals(served, set.getBaseModelVersion().toString(),
                "the set after the reset starts from the promoted version, not the original checkpoint");
        assertTrue(logged("event=served_version_checked", "model=fm-reset", "batcher_version=v0",
                "promoted_version=" + served, "cause=behind_promotions"),
                "ingest logs that its own state was behind loku.model-versions");
        checkInvariants("fm-reset", concat(first, next));
        List<ModelVersionPromoted> versions = promotions("fm-reset");
        assertEquals(2, versions.size(), versions.toString());
        assertEquals(served, versions.get(1).getPreviousVersion().toString(), "the new version builds on the old");
        row("(h) ingest's state reset between two sets (state folder and changelog topics deleted)",
                "first set " + ending(first.get(0)) + " promoted " + served + "; after the reset ingest's own state"
                        + " said v0 and loku.model-versions said " + served + " (logged behind_promotions): the next"
                        + " set started from " + set.getBaseModelVersion() + ", " + ending(next.get(0)) + ", promoted "
                        + versions.get(1).getVersion() + " on top of it",
                before + seconds(t1), "fm-reset", concat(first, next));
    }

    @Test
    @Order(10)
    void anUnwritableArtifactStoreMakesTheJobInFlightWaitNotFailAndTheSetEndsOnceWhenItIsBack() throws Exception {
        long t0 = System.nanoTime();
        List<ErasureRequest> sent = submit("fm-store", "store", 1);
        // Once the set is cut, the store's scratch folder is replaced by a plain file: every write then fails, for
        // any user, as on a full or read-only volume. Whichever job stage writes next (Fisher, worker or eval:
        // the Fisher pass on stories260K takes milliseconds, so it is often the worker) meets it.
        waitFor(() -> statuses(sent.get(0)).contains(AuditStatus.BATCHED), "the set cut");
        long waitsBefore = countLogged("event=storage_unavailable");
        Path scratch = fx.artifacts().root().resolve("tmp");
        waitFor(() -> {
            try {
                Files.delete(scratch); // fails while a write is in progress there
                Files.createFile(scratch);
                return true;
            } catch (java.io.IOException e) {
                return false;
            }
        }, "the store's scratch folder replaced by a file");
        long broken = System.nanoTime();
        waitFor(() -> countLogged("event=storage_unavailable") >= waitsBefore + 2,
                "the job in flight to meet the unwritable store twice");
        assertTrue(statuses(sent.get(0)).stream().noneMatch(TERMINAL::contains),
                "nothing ends while the store is unwritable: " + statuses(sent.get(0)));
        assertEquals(0, deadLetters(d -> keyedBy(d, "fm-store")).size(), "nothing dead-lettered");
        double brokenSeconds = seconds(broken);
        Files.delete(scratch);
        Files.createDirectories(scratch);

        awaitPurged(sent);
        assertEquals(AuditStatus.VERIFIED, terminal(sent.get(0)).getStatus(), ending(sent.get(0)));
        assertFalse(statuses(sent.get(0)).contains(AuditStatus.FAILED), statuses(sent.get(0)).toString());
        checkInvariants("fm-store", sent);
        List<String> waits = loggedLines("event=storage_unavailable");
        List<String> ours = waits.subList((int) waitsBefore, waits.size());
        String stages = String.join(", ", ours.stream().map(l -> l.replaceAll(".*service=(\\S+).*", "$1"))
                .distinct().toList());
        row("(i) artifact store unwritable while a job is in flight (scratch folder replaced by a file)",
                String.format(java.util.Locale.ROOT, "made unwritable once the set was cut; the %s job met it %d"
                        + " times in %.1f s (event=storage_unavailable, pauses doubling), nothing failed or was"
                        + " dead-lettered; once writable again the job ran: %s once, one version", stages,
                        ours.size(), brokenSeconds, ending(sent.get(0))),
                seconds(t0), "fm-store", sent);
    }

    @Test
    @Order(11)
    void noForgetTextInAnyAuditEventDeadLetterMetricLogLineOrLeftOverArtifact() throws Exception {
        List<String> places = new ArrayList<>();
        read(Topics.AUDIT, AuditEvent.class, e -> true).forEach(e -> places.add("audit " + e));
        deadLetters(d -> true).forEach(d -> places.add("dead letter " + d.getReason()));
        services.forEach(s -> places.add("metrics " + s.metrics().scrape()));
        for (ILoggingEvent e : logs.list) {
            places.add("log " + e.getFormattedMessage());
        }
        assertTrue(logs.list.size() > 50, "the log was captured");
        for (Path log : workerJvmLogs) {
            readQuietly(log).lines().forEach(l -> places.add("worker JVM log " + l));
        }
        for (String place : places) {
            assertFalse(place.contains("Secretperson") || place.contains("Hidden Lane"), "content leaked: " + place);
        }
        try (Stream<Path> files = Files.walk(fx.artifacts().root())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertFalse(text.contains("Secretperson"), "forget text left in " + f);
            }
        }
    }

    // --- the checks every case ends with ---

    /** Exactly one terminal status per request; per forget set one final verdict and a promotion iff it passed. */
    private void checkInvariants(String model, List<ErasureRequest> sent) {
        for (ErasureRequest r : sent) {
            List<AuditStatus> trail = statuses(r);
            assertEquals(1, trail.stream().filter(TERMINAL::contains).count(), r.getRequestId() + ": " + trail);
            if (trail.contains(AuditStatus.BATCHED)) {
                waitForQuietly(() -> statuses(r).contains(AuditStatus.PURGED));
                assertTrue(statuses(r).contains(AuditStatus.PURGED), "a batched request's data are purged: " + trail);
            }
        }
        Map<UUID, List<VerificationResult>> finals = new HashMap<>();
        verdicts(model).stream().filter(v -> !v.getRetrying())
                .forEach(v -> finals.computeIfAbsent(v.getForgetSetId(), k -> new ArrayList<>()).add(v));
        for (Map.Entry<UUID, List<VerificationResult>> e : finals.entrySet()) {
            assertEquals(1, e.getValue().size(), "one final verdict for set " + e.getKey());
            long promoted = promotions(model).stream().filter(p -> p.getVersion().equals(e.getValue().get(0)
                    .getCandidateVersion())).count();
            assertEquals(e.getValue().get(0).getVerdict() == Verdict.PASS ? 1 : 0, promoted,
                    "versions promoted for set " + e.getKey());
        }
    }

    private void row(String fault, String outcome, double seconds, String model, List<ErasureRequest> sent) {
        row(fault, outcome, seconds, List.of(model), sent);
    }

    /** A table row for a case over {@code models}: its sets, attempts and versions counted over all of them. */
    private void row(String fault, String outcome, double seconds, List<String> models, List<ErasureRequest> sent) {
        List<VerificationResult> verdicts = models.stream().flatMap(m -> verdicts(m).stream()).toList();
        ObjectNode r = rows.addObject();
        r.put("case", fault);
        r.put("outcome", outcome);
        r.put("secondsToTerminal", Math.round(seconds * 10) / 10.0);
        r.put("requests", sent.size());
        r.put("terminal", String.join(", ", sent.stream().map(x -> terminal(x).getStatus().name()).distinct().toList()));
        r.put("attempts", verdicts.stream().mapToInt(VerificationResult::getAttempt).max().orElse(0));
        r.put("forgetSets", (int) verdicts.stream().map(VerificationResult::getForgetSetId).distinct().count());
        r.put("versionsPromoted", models.stream().mapToInt(m -> promotions(m).size()).sum());
        r.put("deadLetters", deadLetters(d -> true).stream().filter(d -> d.getReason() != null).count());
    }

    private void writeReport() throws Exception {
        Path target = Path.of("target");
        Files.createDirectories(target);
        ObjectNode report = CliJson.MAPPER.createObjectNode();
        report.put("ranAt", Instant.now().toString());
        report.put("host", InetAddress.getLocalHost().getHostName());
        report.put("cpus", Runtime.getRuntime().availableProcessors());
        report.put("loadAverage", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        report.set("cases", rows);
        Files.writeString(target.resolve("reliability.json"), CliJson.MAPPER.writerWithDefaultPrettyPrinter()
                .writeValueAsString(report));
        StringBuilder md = new StringBuilder();
        md.append("| case | what happened | requests | terminal | s to terminal | forget sets | attempts (max) | versions promoted |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> md.append(String.format(java.util.Locale.ROOT, "| %s | %s | %d | %s | %.1f | %d | %d | %d |%n",
                r.path("case").asText(), r.path("outcome").asText(), r.path("requests").asInt(),
                r.path("terminal").asText(), r.path("secondsToTerminal").asDouble(), r.path("forgetSets").asInt(),
                r.path("attempts").asInt(), r.path("versionsPromoted").asInt())));
        md.append(String.format(java.util.Locale.ROOT, "%nRun %s on %s (%d CPUs, load average %.2f at the end).%n",
                report.path("ranAt").asText(), report.path("host").asText(), report.path("cpus").asInt(),
                report.path("loadAverage").asDouble()));
        Files.writeString(target.resolve("reliability.md"), md.toString());
    }

    // --- helpers ---

    /**
     * Makes {@code model}'s base a copy of stories260K fine-tuned on {@code request}'s content (the text and the
     * question-answer pair, as the worker reads them), with up to 40 epochs in its profile: its forget set is
     * memorised, so the stop rule keeps its job training for several epochs.
     */
    private void memorisingModel(String model, ErasureRequest request) throws Exception {
        Path train = dir.resolve("memorised.jsonl");
        List<String> lines = new ArrayList<>();
        for (CharSequence text : request.getTexts()) {
            lines.add(CliJson.MAPPER.createObjectNode().put("text", text.toString()).toString());
        }
        for (QaPair qa : request.getQaPairs()) {
            lines.add(CliJson.MAPPER.createObjectNode().put("question", qa.getQuestion().toString())
                    .put("answer", qa.getAnswer().toString()).toString());
        }
        lines.addAll(Files.readAllLines(dir.resolve("data/retain.jsonl")));
        Files.write(train, lines);
        Path base = dir.resolve("memorised-base");
        Path stories = Path.of(System.getProperty("loku.project.root", "..")).resolve("models/stories260K");
        LmCliTest.Run ft = LmCliTest.run("finetune", "--model", stories.toString(), "--data", train.toString(),
                "--epochs", "30", "--lr", "0.005", "--batch-size", "8", "--seed", "3", "--out", base.toString(),
                "--device", "cpu");
        assertEquals(0, ft.exitCode(), "fine-tune failed");
        Files.delete(train);
        ObjectNode catalogue = (ObjectNode) CliJson.MAPPER.readTree(fx.catalogueFile().toFile());
        for (com.fasterxml.jackson.databind.JsonNode m : catalogue.get("models")) {
            if (m.get("id").asText().equals(model)) {
                ((ObjectNode) m).put("baseCheckpoint", base.toString());
                ((ObjectNode) m.get("profile")).put("maxEpochs", 40).put("learningRate", 0.001);
            }
        }
        Files.writeString(fx.catalogueFile(), CliJson.MAPPER.writeValueAsString(catalogue));
    }

    /** A worker in a JVM of its own: up to 40 epochs, checkpoints kept in {@code checkpoints}. */
    private Map<String, String> multiEpochWorkerSettings(String instance, Path checkpoints) {
        Map<String, String> w = workerSettings(instance);
        w.put("worker.max.epochs.cap", "40");
        w.put("worker.epoch.checkpoint.dir", checkpoints.toString());
        return w;
    }

    /** How many epoch checkpoints (tensor files) are under {@code checkpoints}. */
    private static long savedEpochs(Path checkpoints) {
        if (!Files.isDirectory(checkpoints)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(checkpoints)) {
            return files.filter(f -> f.getFileName().toString().matches("epoch-\\d+\\.safetensors")).count();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return 0; // a file renamed or deleted during the walk: the caller polls again
        }
    }

    /** A worker in a JVM of its own ({@code WorkerMain --config}), its log in {@code childDir/stderr.txt}. */
    private Process startWorkerJvm(Path childDir, Map<String, String> settings) throws Exception {
        Files.createDirectories(childDir);
        workerJvmLogs.add(childDir.resolve("stderr.txt"));
        Path config = childDir.resolve("worker.properties");
        java.util.Properties properties = new java.util.Properties();
        properties.putAll(settings);
        try (var out = Files.newBufferedWriter(config)) {
            properties.store(out, "a worker JVM of FaultMatrixIT");
        }
        // The flags the services' JVMs get: the trusted Avro packages, the service logging on stderr.
        List<String> flags = List.of("-Xmx768m", "-Dlogback.configurationFile=loku-service-logback.xml",
                "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=" + System.getProperty("org.apache.avro.SERIALIZABLE_PACKAGES",
                        "dev.loku.events"));
        return ChildJvm.start(childDir, flags, "dev.loku.worker.WorkerMain", "--config", config.toString());
    }

    /** A worker of this pipeline with the real engine, one epoch, in this JVM. */
    private Service worker(String instance) {
        WorkerConfig config = WorkerConfig.of(workerSettings(instance));
        return WorkerService.create(config, EngineUnlearningRunner.forConfig(config));
    }

    private Map<String, String> workerSettings(String instance) {
        Map<String, String> w = engine("worker", dir);
        w.put("service.instance.id", instance);
        w.put("worker.max.epochs.cap", "1");
        // The broker's minimum: a member that dies without leaving is replaced 6 s later, not 45 s.
        w.put("kafka.session.timeout.ms", "6000");
        return w;
    }

    /** The first captured log line of this JVM's services that starts with {@code prefix}. */
    private java.util.Optional<String> firstLogged(String prefix) {
        while (true) {
            try {
                return new ArrayList<>(logs.list).stream().map(ILoggingEvent::getFormattedMessage)
                        .filter(m -> m.startsWith(prefix)).findFirst();
            } catch (java.util.ConcurrentModificationException e) {
                // a service was logging; copy again
            }
        }
    }

    /** Whether a captured log line of this JVM's services contains every one of {@code parts}. */
    /** The captured log lines that contain every part, in order (the list is copied; a service may be logging). */
    private List<String> loggedLines(String... parts) {
        while (true) {
            try {
                return new ArrayList<>(logs.list).stream().map(ILoggingEvent::getFormattedMessage)
                        .filter(m -> Stream.of(parts).allMatch(m::contains)).toList();
            } catch (java.util.ConcurrentModificationException e) {
                Thread.onSpinWait();
            }
        }
    }

    private long countLogged(String... parts) {
        return loggedLines(parts).size();
    }

    private boolean logged(String... parts) {
        List<ILoggingEvent> snapshot;
        try {
            snapshot = new ArrayList<>(logs.list);
        } catch (java.util.ConcurrentModificationException e) {
            return false; // a service was logging; the caller polls again
        }
        return snapshot.stream().map(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> Stream.of(parts).allMatch(m::contains));
    }

    private static String readQuietly(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private List<UnlearnCompleted> candidates(String model) {
        return read(Topics.CANDIDATES, UnlearnCompleted.class, c -> c.getModelId().equals(model));
    }

    private Map<String, String> engine(String prefix, Path dir) {
        Map<String, String> s = settings(prefix + "-1");
        s.put(prefix + ".group.id", "fm-" + prefix + "-" + run);
        s.put(prefix + ".device", "cpu");
        s.put(prefix + ".work.dir", dir.resolve("work").toString());
        return s;
    }

    private Map<String, String> settings(String instance) {
        Map<String, String> s = fx.commonSettings(instance);
        s.put("bootstrap.servers", stack.bootstrapServers());
        s.put("registry.url", stack.ccompatUrl());
        return s;
    }

    private void start(Service service) throws Exception {
        service.start();
        services.add(service);
    }

    private static ErasureRequest request(String model, String tag, int i) {
        return ErasureRequest.newBuilder(SampleEvents.erasureRequest(model)).setTenantId("acme")
                .setTexts(List.of("[" + tag + "] " + PipelineFixtures.SECRET + " " + i + " lives at " + i
                        + " Hidden Lane."))
                .setQaPairs(List.of(new QaPair("Where does " + PipelineFixtures.SECRET + " live?",
                        "At " + i + " Hidden Lane.")))
                .build();
    }

    private List<ErasureRequest> submit(String model, String tag, int n) throws Exception {
        List<ErasureRequest> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ErasureRequest r = request(model, tag, i);
            send(r);
            sent.add(r);
        }
        return sent;
    }

    /** Sends the request sealed, as every producer must (ingest refuses plaintext); the test keeps the plaintext. */
    private void send(ErasureRequest r) throws Exception {
        requests.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), r.getRequestId().toString(),
                SealedRequests.sealed(fx.stores().seal(), r))).get(30, TimeUnit.SECONDS);
    }

    /** The blob of the request's content artifact, found by the hash ingest's ledger hold names. */
    private Path blob(AuditEvent accepted) throws Exception {
        Path waiting = fx.artifacts().root().resolve("forget-sets/waiting");
        try (Stream<Path> holds = Files.walk(waiting)) {
            String sha = holds.filter(p -> p.getFileName().toString().equals(accepted.getRequestId().toString()))
                    .findFirst().orElseThrow().getParent().getFileName().toString();
            return fx.artifacts().root().resolve("blobs/sha256").resolve(sha.substring(0, 2)).resolve(sha);
        }
    }

    /** The terminal status, with the engine's verdict reason when it failed. */
    private String ending(ErasureRequest r) {
        AuditEvent end = terminal(r);
        return end.getStatus() + (end.getReason() == null ? "" : " (" + end.getReason() + ")");
    }

    private AuditEvent terminalOrAccepted(ErasureRequest r) {
        return trail(r).stream().filter(e -> e.getStatus() == AuditStatus.ACCEPTED).findFirst().orElseThrow();
    }

    private AuditEvent terminal(ErasureRequest r) {
        return trail(r).stream().filter(e -> TERMINAL.contains(e.getStatus())).findFirst().orElseThrow();
    }

    private void awaitTerminal(List<ErasureRequest> sent) throws InterruptedException {
        waitFor(() -> sent.stream().allMatch(r -> statuses(r).stream().anyMatch(TERMINAL::contains)),
                "a terminal status for every request");
    }

    private void awaitPurged(List<ErasureRequest> sent) throws InterruptedException {
        waitFor(() -> sent.stream().allMatch(r -> statuses(r).contains(AuditStatus.PURGED)), "PURGED");
    }

    private List<AuditEvent> trail(ErasureRequest r) {
        return read(Topics.AUDIT, AuditEvent.class, e -> e.getRequestId().equals(r.getRequestId()));
    }

    private List<AuditStatus> statuses(ErasureRequest r) {
        return trail(r).stream().map(AuditEvent::getStatus).toList();
    }

    private List<ModelVersionPromoted> promotions(String model) {
        return read(Topics.MODEL_VERSIONS, ModelVersionPromoted.class, p -> p.getModelId().equals(model));
    }

    private List<VerificationResult> verdicts(String model) {
        return read(Topics.VERIFICATIONS, VerificationResult.class, v -> v.getModelId().equals(model));
    }

    @SuppressWarnings("unchecked")
    private synchronized <V extends SpecificRecord> List<V> read(Topic<String, V> topic, Class<V> type,
                                                                 Predicate<V> filter) {
        TopicCatchUp<String, V> reader = (TopicCatchUp<String, V>) readers.computeIfAbsent(type,
                t -> new TopicCatchUp<>(Map.of("bootstrap.servers", stack.bootstrapServers()), topic, serdes));
        List<V> all = (List<V>) seen.computeIfAbsent(type, t -> new ArrayList<>());
        reader.catchUp(r -> all.add(r.value()), Duration.ofSeconds(30));
        return all.stream().filter(filter).toList();
    }

    private List<DeadLetter> deadLetters(Predicate<DeadLetter> filter) {
        try (TopicCatchUp<byte[], DeadLetter> reader = new TopicCatchUp<>(Map.of("bootstrap.servers",
                stack.bootstrapServers()), Topics.DEAD_LETTERS, serdes)) {
            List<DeadLetter> all = new ArrayList<>();
            reader.catchUp(r -> all.add(r.value()), Duration.ofSeconds(30));
            return all.stream().filter(filter).toList();
        }
    }

    /** Whether the dead letter's original record was keyed by {@code model} (job topics are keyed by model id). */
    private static boolean keyedBy(DeadLetter d, String model) {
        return d.getOriginalKey() != null
                && StandardCharsets.UTF_8.decode(d.getOriginalKey().duplicate()).toString().equals(model);
    }

    private static List<ErasureRequest> concat(List<ErasureRequest> a, List<ErasureRequest> b) {
        List<ErasureRequest> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void waitForQuietly(BooleanSupplier condition) {
        try {
            waitFor(condition, "");
        } catch (AssertionError | InterruptedException e) {
            // the caller asserts
        }
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        waitFor(condition, what, WAIT);
    }

    private static void waitFor(BooleanSupplier condition, String what, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("timed out waiting for: " + what);
    }
}
