package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.loku.eval.EvalConfig;
import dev.loku.eval.EvalService;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.DeadLetter;
import dev.loku.events.ErasureRequest;
import dev.loku.events.JobProgress;
import dev.loku.events.ModelVersionPromoted;
import dev.loku.events.PipelineStage;
import dev.loku.events.QaPair;
import dev.loku.events.UnlearnCompleted;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.fisher.FisherConfig;
import dev.loku.fisher.FisherService;
import dev.loku.ingest.IngestConfig;
import dev.loku.ingest.IngestService;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.job.JobStage;
import dev.loku.runtime.kafka.TopicCatchUp;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.service.Health;
import dev.loku.runtime.service.Service;
import dev.loku.runtime.service.ServiceHttpServer;
import dev.loku.runtime.testing.PipelineFixtures;
import dev.loku.runtime.testing.PrometheusText;
import dev.loku.runtime.testing.RestProtocolReader;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.runtime.testing.TestClients;
import dev.loku.runtime.testing.WithLokuStack;
import dev.loku.schemas.Topic;
import dev.loku.schemas.Topics;
import dev.loku.worker.WorkerConfig;
import dev.loku.worker.WorkerService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

/**
 * The four services on the real broker and registry, the engine behind fake boundaries ({@link FakeEngines}):
 * erasure requests in, and out of the topics every request's trail to exactly one terminal status and PURGED,
 * exactly one promotion per passed set, retries, failures that release the gate, a worker replaced mid-job, a
 * repeated candidate ignored, {@code loku status}, and nothing of the forget text in any audit event, dead letter
 * reason, metric scrape, log line or left-over artifact. One stack and one set of services for all scenarios; each
 * scenario has its own model, so their jobs do not queue behind each other.
 */
@WithLokuStack
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineServicesIT {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String SECRET = PipelineFixtures.SECRET;

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    /** The CLI logs dev.loku at WARN; the services' one-line INFO events are what the privacy check must see. */
    private final Logger ours = (Logger) LoggerFactory.getLogger("dev.loku");
    private ch.qos.logback.classic.Level oursBefore;
    private final List<Service> services = new CopyOnWriteArrayList<>();
    private final Map<Class<?>, TopicCatchUp<String, ? extends SpecificRecord>> readers = new HashMap<>();
    private final Map<Class<?>, List<?>> seen = new HashMap<>();

    private StackEndpoints stack;
    private RegistrySerdes serdes;
    private PipelineFixtures fx;
    private FakeEngines engines;
    private String run;
    private JobStage worker;
    private JobStage eval;
    private KafkaProducer<String, ErasureRequest> requests;

    @BeforeAll
    void startPipeline(StackEndpoints stack, RegistrySerdes serdes) throws Exception {
        this.stack = stack;
        this.serdes = serdes;
        logs.start();
        root.addAppender(logs);
        oursBefore = ours.getLevel();
        ours.setLevel(ch.qos.logback.classic.Level.INFO);
        Path projectRoot = Path.of(System.getProperty("loku.project.root", ".."));
        Path dir = Files.createTempDirectory("loku-pipeline-it");
        fx = PipelineFixtures.create(dir, projectRoot.resolve("models/stories260K/stories260K.bin"), 2,
                "it-pass", "it-retry", "it-fail", "it-broken", "it-crash");
        engines = new FakeEngines(projectRoot.resolve("models/stories260K"));
        run = UUID.randomUUID().toString().substring(0, 8);

        Map<String, String> ingest = settings("ingest-1");
        ingest.put("ingest.application.id", "it-ingest-" + run);
        ingest.put("ingest.state.dir", dir.resolve("ingest-state").toString());
        ingest.put("ingest.batch.max.requests", "2");
        ingest.put("ingest.batch.max.wait", "1s");
        ingest.put("ingest.batch.check.interval", "100ms");
        start(new IngestService(IngestConfig.of(ingest)));
        Map<String, String> fisher = settings("fisher-1");
        fisher.put("fisher.group.id", "it-fisher-" + run);
        fisher.put("fisher.work.dir", dir.resolve("work").toString());
        start(FisherService.create(FisherConfig.of(fisher), engines.estimator()));
        worker = start(newWorker("worker-1"));
        Map<String, String> evalSettings = settings("eval-1");
        evalSettings.put("eval.group.id", "it-eval-" + run);
        evalSettings.put("eval.purge.group.id", "it-eval-purge-" + run);
        evalSettings.put("eval.work.dir", dir.resolve("work").toString());
        eval = start(EvalService.create(EvalConfig.of(evalSettings), engines.evaluator()));
        requests = TestClients.producer(stack, Topics.ERASURE_REQUESTS.keySerde().serializer(),
                serdes.valueSerializer(Topics.ERASURE_REQUESTS));
        waitFor(() -> services.stream().allMatch(s -> s.health().isUp()), "every service up");
    }

    @AfterAll
    void stopPipeline() {
        services.forEach(Service::stop);
        readers.values().forEach(TopicCatchUp::close);
        if (requests != null) {
            requests.close();
        }
        root.detachAppender(logs);
        ours.setLevel(oursBefore);
    }

    @Test
    @Order(1)
    void aPassPromotesExactlyOneVersionPurgesTheDataAndStatusPrintsTheLife() throws Exception {
        List<ErasureRequest> sent = submit("it-pass", "pass", 2);
        awaitPurged(sent);

        for (ErasureRequest r : sent) {
            assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED, AuditStatus.BATCHED,
                    AuditStatus.IMPORTANCE_READY, AuditStatus.UNLEARNING, AuditStatus.UNLEARNED, AuditStatus.VERIFIED,
                    AuditStatus.PURGED), statuses(r), "trail of " + r.getRequestId());
        }
        List<ModelVersionPromoted> promoted = promotions("it-pass");
        assertEquals(1, promoted.size());
        ModelVersionPromoted version = promoted.get(0);
        assertEquals("v0", version.getPreviousVersion());
        assertEquals(ids(sent), Set.copyOf(version.getRequestIds()));
        assertEquals(version.getVersion(), trail(sent.get(0)).get(6).getModelVersion(), "VERIFIED names the version");
        assertTrue(Files.isRegularFile(fx.stores().versions().resolve("it-pass", version.getVersion())
                .resolve("stories260K.safetensors")), "the promoted version stays and materialises");
        VerificationResult verdict = only(verdicts("it-pass"));
        assertEquals(Verdict.PASS, verdict.getVerdict());
        assertEquals(0.3, verdict.getThresholds().getMaThreshold());
        UnlearnCompleted candidate = only(candidates("it-pass"));
        assertEquals(PipelineIds.jobId(candidate.getForgetSetId(), 1, "v0"), candidate.getJobId());
        assertEquals(2, candidate.getEpochs().size());
        assertTrue(read(Topics.PROGRESS, JobProgress.class, p -> p.getModelId().equals("it-pass")).size() >= 3,
                "progress heartbeats");
        assertTrue(fx.stores().ledger().isClosed(candidate.getForgetSetId()));
        assertNoForgetTextInTheStore();

        UUID id = sent.get(0).getRequestId();
        LmCliTest.Run status = LmCliTest.run("status", id.toString(), "--bootstrap-servers", stack.bootstrapServers(),
                "--registry-url", stack.ccompatUrl(), "--json");
        JsonNode life = LmCliTest.onlyJson(status);
        assertEquals("VERIFIED", life.path("terminal").asText());
        assertTrue(life.path("purged").asBoolean());
        assertEquals(8, life.path("events").size());
        assertEquals("VERIFICATION", life.path("events").get(6).path("stage").asText());
        assertEquals(version.getVersion(), life.path("events").get(6).path("modelVersion").asText());
        LmCliTest.Run table = LmCliTest.run("status", id.toString(), "--bootstrap-servers", stack.bootstrapServers(),
                "--registry-url", stack.ccompatUrl());
        assertEquals(0, table.exitCode(), table.err());
        assertTrue(table.out().contains("status: VERIFIED, data purged"), table.out());
        assertEquals(StatusCommand.NOT_FOUND, LmCliTest.run("status", UUID.randomUUID().toString(),
                "--bootstrap-servers", stack.bootstrapServers(), "--registry-url", stack.ccompatUrl()).exitCode());
    }

    @Test
    @Order(2)
    void aRepeatedCandidateIsIgnored() throws Exception {
        UnlearnCompleted candidate = only(candidates("it-pass"));
        double before = eval.metrics().duplicates();
        try (KafkaProducer<String, UnlearnCompleted> p = TestClients.producer(stack,
                Topics.CANDIDATES.keySerde().serializer(), serdes.valueSerializer(Topics.CANDIDATES))) {
            p.send(new ProducerRecord<>(Topics.CANDIDATES.name(), "it-pass", candidate)).get(30, TimeUnit.SECONDS);
        }
        waitFor(() -> eval.metrics().duplicates() > before, "the repeat recognised");
        assertEquals(1, promotions("it-pass").size(), "no second promotion");
        assertEquals(1, verdicts("it-pass").size(), "no second verdict");
    }

    @Test
    @Order(3)
    void aFailIsRetriedWithTheNextAttemptAndThenPasses() throws Exception {
        List<ErasureRequest> sent = submit("it-retry", "retry", 1);
        awaitPurged(sent);
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED, AuditStatus.BATCHED,
                AuditStatus.IMPORTANCE_READY, AuditStatus.UNLEARNING, AuditStatus.UNLEARNED, AuditStatus.RETRYING,
                AuditStatus.UNLEARNING, AuditStatus.UNLEARNED, AuditStatus.VERIFIED, AuditStatus.PURGED),
                statuses(sent.get(0)));
        List<VerificationResult> verdicts = verdicts("it-retry");
        assertEquals(List.of(Verdict.FAIL, Verdict.PASS), verdicts.stream().map(VerificationResult::getVerdict).toList());
        assertTrue(verdicts.get(0).getRetrying());
        assertEquals("forget MA 0.6000 >= threshold 0.3000; forget EL_10 0.3000 >= threshold 0.0500",
                verdicts.get(0).getReason());
        assertEquals(2, verdicts.get(1).getAttempt());
        ModelVersionPromoted promoted = only(promotions("it-retry"));
        assertEquals(verdicts.get(1).getCandidateVersion(), promoted.getVersion());
        assertEquals("0.002", only(candidates("it-retry", 2)).getHyperparameters().get("learning_rate"),
                "attempt 2 trained with the strengthened profile");
        assertTrue(fx.stores().versions().ref("it-retry", verdicts.get(0).getCandidateVersion()).isEmpty(),
                "the failed attempt's candidate is withdrawn");
    }

    @Test
    @Order(4)
    void aFailWithNoAttemptsLeftIsFinalPurgedAndOpensTheGate() throws Exception {
        List<ErasureRequest> sent = submit("it-fail", "fail", 1);
        awaitPurged(sent);
        List<AuditStatus> trail = statuses(sent.get(0));
        assertEquals(List.of(AuditStatus.RETRYING, AuditStatus.UNLEARNING, AuditStatus.UNLEARNED, AuditStatus.FAILED,
                AuditStatus.PURGED), trail.subList(trail.size() - 5, trail.size()));
        VerificationResult last = verdicts("it-fail").get(1);
        assertEquals(Verdict.FAIL, last.getVerdict());
        assertFalse(last.getRetrying(), "a final verdict");
        assertEquals(last.getReason(), trail(sent.get(0)).get(trail.size() - 2).getReason());
        assertEquals(List.of(), promotions("it-fail"));

        List<ErasureRequest> next = submit("it-fail", "pass", 1);
        awaitPurged(next);
        assertEquals(AuditStatus.VERIFIED, statuses(next.get(0)).get(statuses(next.get(0)).size() - 2),
                "the model's next set was cut and verified: the gate opened");
        assertEquals("v0", only(promotions("it-fail")).getPreviousVersion());
    }

    @Test
    @Order(5)
    void anEngineFailureBeforeVerificationClosesTheSetAndOpensTheGate() throws Exception {
        List<ErasureRequest> sent = submit("it-broken", "broken", 1);
        awaitPurged(sent);
        List<AuditEvent> trail = trail(sent.get(0));
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED, AuditStatus.BATCHED, AuditStatus.FAILED,
                AuditStatus.PURGED), statuses(sent.get(0)));
        assertEquals(PipelineStage.IMPORTANCE, trail.get(3).getStage());
        assertEquals("failed with IllegalStateException", trail.get(3).getReason());
        VerificationResult verdict = only(verdicts("it-broken"));
        assertFalse(verdict.getRetrying());
        assertTrue(Double.isNaN(verdict.getAfter().getForgetMa()));
        List<DeadLetter> letters = deadLetters(d -> d.getSourceTopic().equals(Topics.FORGET_SETS.name()));
        assertEquals(1, letters.size());
        assertEquals("failed with IllegalStateException", letters.get(0).getReason());

        List<ErasureRequest> next = submit("it-broken", "pass", 1);
        awaitPurged(next);
        assertEquals(1, promotions("it-broken").size(), "the next set went through: the gate opened");
    }

    @Test
    @Order(6)
    void aWorkerStoppedMidJobIsReplacedByAnotherInstanceAndOneVersionIsPromoted() throws Exception {
        List<ErasureRequest> sent = submit("it-crash", "crash", 1);
        assertTrue(engines.crashJobStarted.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the job started");
        assertEquals(Health.Status.UP, worker.health().status());
        worker.stop();
        services.remove(worker);
        assertTrue(engines.crashJobInterrupted.await(10, TimeUnit.SECONDS), "stop interrupted the job");
        assertEquals(List.of(), candidates("it-crash"), "nothing committed by the stopped worker");

        worker = start(newWorker("worker-2"));
        awaitPurged(sent);
        assertEquals(1, promotions("it-crash").size(), "exactly one version promoted");
        assertEquals(1, candidates("it-crash").size());
        List<AuditEvent> trail = trail(sent.get(0));
        assertEquals(1, trail.stream().filter(e -> e.getStatus() == AuditStatus.VERIFIED).count());
        assertEquals(1, trail.stream().filter(e -> e.getStatus() == AuditStatus.UNLEARNING).map(AuditEvent::getEventId)
                .distinct().count(), "UNLEARNING from both instances is one recognisable event");
    }

    @Test
    @Order(8)
    void noForgetTextInAnyAuditEventDeadLetterMetricLogLineOrLeftOverArtifact() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        try (ServiceHttpServer server = ServiceHttpServer.start(eval, 0)) {
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
        }
        List<String> places = new ArrayList<>();
        read(Topics.AUDIT, AuditEvent.class, e -> true).forEach(e -> places.add("audit " + e));
        deadLetters(d -> true).forEach(d -> places.add("dead letter " + d.getReason()));
        for (Service s : services) {
            String scrape = s.metrics().scrape();
            places.add("metrics " + scrape);
            assertEquals(1.0, PrometheusText.parse(scrape).value("loku_up", Map.of("service", s.name())), scrape);
        }
        PrometheusText evalScrape = PrometheusText.parse(eval.metrics().scrape());
        assertTrue(evalScrape.value("loku_requests_total", Map.of("service", "eval", "status", "PURGED")) > 0);
        assertEquals(1.0, evalScrape.value("loku_duplicates_total", Map.of("service", "eval")));
        PrometheusText workerScrape = PrometheusText.parse(worker.metrics().scrape());
        assertTrue(workerScrape.value("loku_unlearning_epochs_total", Map.of("service", "worker")) > 0,
                "the worker counts the engine's epochs");
        PrometheusText ingestScrape = PrometheusText.parse(services.get(0).metrics().scrape());
        assertTrue(ingestScrape.samples().stream().anyMatch(x -> x.name().startsWith("kafka_stream_")),
                "ingest publishes its Kafka Streams metrics");
        for (ILoggingEvent e : logs.list) {
            places.add("log " + e.getFormattedMessage() + throwableText(e.getThrowableProxy()));
        }
        assertTrue(logs.list.size() > 50, "the log was captured");
        for (String place : places) {
            assertFalse(place.contains("Secretperson") || place.contains("Hidden Lane"), "content leaked: " + place);
        }
        assertNoForgetTextInTheStore();
    }

    @Test
    @Order(9)
    void everyRecordOnEveryCatalogueTopicDecodesWithOnlyTheRestProtocol() {
        // The services wrote through the Confluent-protocol serdes (the default registry.api); a consumer that knows
        // only GET /schemas/ids/{id} and Avro's generic reader must read all of it.
        RestProtocolReader plain = new RestProtocolReader(stack.ccompatUrl());
        Map<String, Integer> decoded = new java.util.TreeMap<>();
        // read_uncommitted: aborted records (the worker stopped mid-job) are the services' bytes too, and an open
        // transaction does not hold the reader back from the end.
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers",
                stack.bootstrapServers(), "isolation.level", "read_uncommitted", "enable.auto.commit", false),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            for (Topic<?, ?> topic : Topics.ALL) {
                for (ConsumerRecord<byte[], byte[]> r : TestClients.readToEnd(consumer, topic.name(), WAIT)) {
                    org.apache.avro.generic.GenericRecord g = plain.decode(r.value());
                    assertEquals(topic.valueType().getSimpleName(), g.getSchema().getName(),
                            topic.name() + " " + r.partition() + "@" + r.offset());
                    decoded.merge(topic.name(), 1, Integer::sum);
                }
            }
        }
        for (Topic<?, ?> topic : List.of(Topics.ERASURE_REQUESTS, Topics.FORGET_SETS, Topics.IMPORTANCE,
                Topics.CANDIDATES, Topics.VERIFICATIONS, Topics.MODEL_VERSIONS, Topics.AUDIT, Topics.PROGRESS,
                Topics.DEAD_LETTERS)) {
            assertTrue(decoded.getOrDefault(topic.name(), 0) > 0, "records decoded per topic: " + decoded);
        }
    }

    @Test
    @Order(10)
    void theAuditTrailVerifiesAsIntactChainsAndAnEditedCopyDoesNot() throws Exception {
        LmCliTest.Run live = LmCliTest.run("audit", "verify", "--json", "--bootstrap-servers", stack.bootstrapServers(),
                "--registry-url", stack.ccompatUrl());
        JsonNode report = LmCliTest.onlyJson(live); // exit code 0: intact
        assertTrue(report.path("intact").asBoolean(), report.toString());
        List<AuditEvent> trail = read(Topics.AUDIT, AuditEvent.class, e -> true);
        assertEquals(trail.size(), report.path("events").asInt(), "every committed event was checked");
        List<String> chains = java.util.stream.StreamSupport.stream(report.path("chains").spliterator(), false)
                .map(c -> c.path("chainId").asText()).toList();
        // Every writer of the trail chains its events: ingest's two branches, each job runner, the heartbeats.
        for (String writer : List.of("it-ingest-" + run + "/intake/", "it-ingest-" + run + "/batcher/",
                "fisher-service/fisher-1/fisher/", "unlearn-worker/worker-1/worker/",
                "unlearn-worker/worker-1/heartbeats/", "eval-service/eval-1/")) {
            assertTrue(chains.stream().anyMatch(c -> c.startsWith(writer)), writer + " in " + chains);
        }

        // A copy of the trail (as a mirror or a restored backup would hold it) with one event's reason edited.
        String copy = "it-audit-copy-" + run;
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", stack.bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(copy, 3, (short) 1))).all()
                    .get(30, TimeUnit.SECONDS);
        }
        AuditEvent target = trail.stream().filter(e -> e.getStatus() == AuditStatus.FAILED).findFirst().orElseThrow();
        try (KafkaProducer<String, AuditEvent> out = TestClients.producer(stack, Topics.AUDIT.keySerde().serializer(),
                serdes.valueSerializer(Topics.AUDIT))) {
            for (AuditEvent e : trail) {
                AuditEvent written = e != target ? e : AuditEvent.newBuilder(e).setStatus(AuditStatus.VERIFIED)
                        .setReason(null).build();
                out.send(new ProducerRecord<>(copy, e.getRequestId().toString(), written)).get(30, TimeUnit.SECONDS);
            }
        }
        LmCliTest.Run edited = LmCliTest.run("audit", "verify", "--topic", copy, "--json", "--bootstrap-servers",
                stack.bootstrapServers(), "--registry-url", stack.ccompatUrl());
        assertEquals(AuditCommand.Verify.BROKEN, edited.exitCode(), edited.out() + edited.err());
        JsonNode broken = CliJson.MAPPER.readTree(edited.out().strip());
        assertEquals(1, broken.path("problems").size(), broken.toString());
        JsonNode problem = broken.path("problems").get(0);
        assertEquals("EDITED", problem.path("kind").asText());
        assertEquals(target.getEventId().toString(), problem.path("eventId").asText());
        assertEquals(target.getChainId(), problem.path("chainId").asText());
    }

    @Test
    @Order(7)
    void lokuSubmitWaitFilesARequestFromAFileAndPrintsItsTrailToTheVerdict() throws Exception {
        Path request = fx.dir().resolve("request.json");
        Files.writeString(request, "{\"tenantId\": \"acme\", \"modelId\": \"it-pass\", \"subjectId\": \"cli-1\","
                + " \"texts\": [\"[pass] " + SECRET + " lives at 9 Hidden Lane.\"], \"reason\": \"GDPR_ART17\"}");
        LmCliTest.Run run = LmCliTest.run("submit", "--file", request.toString(),
                "--keys-root", fx.dir().resolve("keys").toString(), "--wait", "--timeout", "90s",
                "--poll", "200ms", "--bootstrap-servers", stack.bootstrapServers(), "--registry-url", stack.ccompatUrl());
        assertEquals(0, run.exitCode(), run.out() + run.err());
        String[] lines = run.out().split("\n");
        UUID id = UUID.fromString(lines[0].trim());
        assertTrue(run.out().contains("status: VERIFIED, data purged"), run.out());
        assertTrue(run.out().contains("VERIFICATION"), run.out());
        assertFalse(run.out().contains(SECRET) || run.out().contains("Hidden Lane"), "submit never prints the text");
        ErasureRequest filed = read(Topics.ERASURE_REQUESTS, ErasureRequest.class, r -> r.getRequestId().equals(id))
                .get(0);
        assertEquals("cli-1", filed.getSubjectId());
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED, AuditStatus.BATCHED,
                AuditStatus.IMPORTANCE_READY, AuditStatus.UNLEARNING, AuditStatus.UNLEARNED, AuditStatus.VERIFIED,
                AuditStatus.PURGED), statuses(filed));

        LmCliTest.Run rejected = LmCliTest.run("submit", "--tenant", "nobody", "--model", "it-pass", "--subject", "x",
                "--keys-root", fx.dir().resolve("keys").toString(),
                "--text", "anything", "--wait", "--timeout", "60s", "--poll", "200ms", "--json",
                "--bootstrap-servers", stack.bootstrapServers(), "--registry-url", stack.ccompatUrl());
        assertEquals(SubmitCommand.NOT_VERIFIED, rejected.exitCode(), rejected.out() + rejected.err());
        JsonNode verdict = CliJson.MAPPER.readTree(rejected.out().strip());
        assertEquals("REJECTED", verdict.path("terminal").asText(), rejected.out());
        assertEquals(List.of("RECEIVED", "REJECTED"), java.util.stream.StreamSupport.stream(
                verdict.path("events").spliterator(), false).map(e -> e.path("status").asText()).toList());
        assertEquals(2, LmCliTest.run("submit", "--model", "m", "--subject", "s", "--text", "t",
                "--bootstrap-servers", stack.bootstrapServers()).exitCode(), "a missing tenant is a usage error");
    }

    // --- helpers ---

    private JobStage newWorker(String instance) {
        Map<String, String> s = settings(instance);
        s.put("worker.group.id", "it-worker-" + run);
        s.put("worker.work.dir", fx.dir().resolve("work").toString());
        return WorkerService.create(WorkerConfig.of(s), engines.runner());
    }

    private Map<String, String> settings(String instance) {
        Map<String, String> s = fx.commonSettings(instance);
        s.put("bootstrap.servers", stack.bootstrapServers());
        s.put("registry.url", stack.ccompatUrl());
        return s;
    }

    private <S extends Service> S start(S service) throws Exception {
        service.start();
        services.add(service);
        return service;
    }

    /** {@code n} requests for {@code model} whose forget text carries the scenario tag. */
    private List<ErasureRequest> submit(String model, String tag, int n) throws Exception {
        List<ErasureRequest> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ErasureRequest r = ErasureRequest.newBuilder(SampleEvents.erasureRequest(model)).setTenantId("acme")
                    .setTexts(List.of("[" + tag + "] " + SECRET + " " + i + " lives at " + i + " Hidden Lane."))
                    .setQaPairs(List.of(new QaPair("Where does " + SECRET + " live?", "At " + i + " Hidden Lane.")))
                    .build();
            // Sealed, as every producer must; the test keeps the plaintext to compare with.
            requests.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), r.getRequestId().toString(),
                    dev.loku.runtime.crypto.SealedRequests.sealed(fx.stores().seal(), r))).get(30, TimeUnit.SECONDS);
            sent.add(r);
        }
        return sent;
    }

    private void awaitPurged(List<ErasureRequest> sent) throws InterruptedException {
        waitFor(() -> sent.stream().allMatch(r -> statuses(r).contains(AuditStatus.PURGED)),
                "PURGED for " + ids(sent));
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

    private List<UnlearnCompleted> candidates(String model) {
        return read(Topics.CANDIDATES, UnlearnCompleted.class, c -> c.getModelId().equals(model));
    }

    private List<UnlearnCompleted> candidates(String model, int attempt) {
        return candidates(model).stream().filter(c -> c.getAttempt() == attempt).toList();
    }

    /** Everything committed on {@code topic} so far that matches, in log order (one reader per topic, kept). */
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

    private void assertNoForgetTextInTheStore() throws Exception {
        try (Stream<Path> files = Files.walk(fx.artifacts().root())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String text = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
                assertFalse(text.contains("Secretperson"), "forget text left in " + f);
            }
        }
        try (Stream<Path> files = Files.walk(fx.dir().resolve("work"))) {
            assertEquals(List.of(), files.filter(Files::isRegularFile).toList(), "scratch copies left");
        }
    }

    private static Set<UUID> ids(List<ErasureRequest> rs) {
        return rs.stream().map(ErasureRequest::getRequestId).collect(Collectors.toSet());
    }

    private static <T> T only(List<T> list) {
        assertEquals(1, list.size(), String.valueOf(list));
        return list.get(0);
    }

    private static String throwableText(IThrowableProxy t) {
        StringBuilder sb = new StringBuilder();
        for (IThrowableProxy p = t; p != null; p = p.getCause()) {
            sb.append(' ').append(p.getClassName()).append(": ").append(p.getMessage());
        }
        return sb.toString();
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("timed out waiting for: " + what);
    }
}
