package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loku.eval.EvalConfig;
import dev.loku.eval.EvalService;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.fisher.FisherConfig;
import dev.loku.fisher.FisherService;
import dev.loku.ingest.IngestConfig;
import dev.loku.ingest.IngestService;
import dev.loku.runtime.config.KafkaSecurityConfig;
import dev.loku.runtime.embedded.EmbeddedKafka;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.kafka.TopicCatchUp;
import dev.loku.runtime.kafka.TopicProvisioner;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.service.Service;
import dev.loku.runtime.testing.PipelineFixtures;
import dev.loku.runtime.testing.WithLokuStack;
import dev.loku.schemas.Topics;
import dev.loku.worker.WorkerConfig;
import dev.loku.worker.WorkerService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The pipeline on a secured cluster: an in-process broker whose only client listener speaks SASL/PLAIN, with the
 * standard authorizer (no access without an ACL). A client that speaks no SASL, or logs in with a wrong password, is
 * refused; the services' user is refused the topics until ACLs name it; then the four services, configured only
 * through the {@code kafka.security.*} / {@code kafka.sasl.*} settings, carry a request filed by {@code loku submit
 * --config} (same settings, in a properties file) to VERIFIED and PURGED. After PURGED, the bytes on disk are
 * scanned (the broker's log segments, ingest's state stores, the artifact store, the jobs' scratch folders): no
 * plaintext of the request's content is left, and the sealed copy still in the request topic no longer opens; a
 * plaintext control record on the same broker shows the scan does find what is there. The registry is the shared
 * one (it does not talk to Kafka); the engine is behind {@link FakeEngines}.
 */
@WithLokuStack
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecuredKafkaIT {

    /** The test kit's second user: no super-user rights, so it needs ACLs. */
    private static final String SERVICE_USER = "plain-user1";
    private static final String SERVICE_PASSWORD = "plain-user1-secret";
    private static final Duration WAIT = Duration.ofSeconds(90);

    /** Words of the erased text that occur nowhere else: what the byte scan looks for. */
    private static final List<String> ERASED_WORDS = List.of("Ashgrove", "Brackenfold");
    private static final String CONTROL = "Plaintext-control-Wintermoor";

    private EmbeddedKafka broker;
    private StackEndpoints registry;
    private RegistrySerdes serdes;
    private PipelineFixtures fx;
    private String run;
    private UUID requestId;
    private final List<Service> services = new ArrayList<>();

    @BeforeAll
    void startSecuredBroker(StackEndpoints shared, RegistrySerdes serdes) throws Exception {
        this.registry = shared;
        this.serdes = serdes;
        broker = EmbeddedKafka.start(Map.of(), SecurityProtocol.SASL_PLAINTEXT);
        try (Admin admin = broker.admin(login(EmbeddedKafka.SASL_ADMIN, EmbeddedKafka.SASL_ADMIN_PASSWORD))) {
            TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(30));
        }
        fx = PipelineFixtures.create(Files.createTempDirectory("loku-secured-it"),
                Path.of(System.getProperty("loku.project.root", "..")).resolve("models/stories260K/stories260K.bin"), 2,
                "sasl-pass");
        run = UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterAll
    void stopAll() {
        services.forEach(Service::stop);
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    @Order(1)
    void aClientThatSpeaksNoSaslIsRefused() {
        Map<String, Object> plain = new HashMap<>();
        plain.put("default.api.timeout.ms", 4000);
        plain.put("request.timeout.ms", 2000);
        try (Admin admin = broker.admin(plain)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.listTopics().names().get(10, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.TimeoutException.class, e.getCause(),
                    "the broker never answers a client without SASL: " + e.getCause());
        }
    }

    @Test
    @Order(2)
    void aWrongPasswordFailsAuthentication() {
        try (Admin admin = broker.admin(login(SERVICE_USER, "not-the-password"))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, e.getCause());
            assertFalse(e.getCause().getMessage().contains("not-the-password"), "the password is not echoed");
        }
    }

    @Test
    @Order(3)
    void theServicesUserIsRefusedTheTopicsUntilAnAclNamesIt() throws Exception {
        try (Admin admin = broker.admin(login(SERVICE_USER, SERVICE_PASSWORD))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.describeTopics(
                    List.of(Topics.ERASURE_REQUESTS.name())).allTopicNames().get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
        }
        try (Admin admin = broker.admin(login(EmbeddedKafka.SASL_ADMIN, EmbeddedKafka.SASL_ADMIN_PASSWORD))) {
            List<AclBinding> acls = new ArrayList<>();
            for (ResourceType type : List.of(ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID)) {
                acls.add(allow(new ResourcePattern(type, "*", PatternType.LITERAL)));
            }
            acls.add(allow(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL)));
            admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
        }
        try (Admin admin = broker.admin(login(SERVICE_USER, SERVICE_PASSWORD))) {
            assertEquals(1, admin.describeTopics(List.of(Topics.ERASURE_REQUESTS.name())).allTopicNames()
                    .get(30, TimeUnit.SECONDS).size());
        }
    }

    @Test
    @Order(4)
    void theServicesConfiguredBySettingsCarryASubmittedRequestToPurged() throws Exception {
        FakeEngines engines = new FakeEngines(Path.of(System.getProperty("loku.project.root", ".."))
                .resolve("models/stories260K"));
        Path dir = fx.dir();
        Map<String, String> ingest = settings("ingest-1");
        ingest.put("ingest.application.id", "sasl-ingest-" + run);
        ingest.put("ingest.state.dir", dir.resolve("ingest-state").toString());
        ingest.put("ingest.batch.max.requests", "1");
        ingest.put("ingest.batch.max.wait", "1s");
        ingest.put("ingest.batch.check.interval", "100ms");
        start(new IngestService(IngestConfig.of(ingest)));
        Map<String, String> fisher = settings("fisher-1");
        fisher.put("fisher.group.id", "sasl-fisher-" + run);
        fisher.put("fisher.work.dir", dir.resolve("work").toString());
        start(FisherService.create(FisherConfig.of(fisher), engines.estimator()));
        Map<String, String> worker = settings("worker-1");
        worker.put("worker.group.id", "sasl-worker-" + run);
        worker.put("worker.work.dir", dir.resolve("work").toString());
        start(WorkerService.create(WorkerConfig.of(worker), engines.runner()));
        Map<String, String> eval = settings("eval-1");
        eval.put("eval.group.id", "sasl-eval-" + run);
        eval.put("eval.purge.group.id", "sasl-eval-purge-" + run);
        eval.put("eval.work.dir", dir.resolve("work").toString());
        start(EvalService.create(EvalConfig.of(eval), engines.evaluator()));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!services.stream().allMatch(s -> s.health().isUp()) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(services.stream().allMatch(s -> s.health().isUp()), "every service up on the SASL listener");

        // loku submit reads the same settings from a properties file, as an operator's client would.
        Path clientConfig = dir.resolve("client.properties");
        StringBuilder props = new StringBuilder();
        settings("cli").forEach((k, v) -> props.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
        Files.writeString(clientConfig, props.toString());
        // The producer's side: outside every folder of the pipeline.
        Path request = Files.createTempDirectory("loku-secured-producer").resolve("request.json");
        Files.writeString(request, "{\"tenantId\": \"acme\", \"modelId\": \"sasl-pass\", \"subjectId\": \"sasl-1\","
                + " \"texts\": [\"[pass] Quillon " + ERASED_WORDS.get(0) + " lives at 3 " + ERASED_WORDS.get(1)
                + " Mews.\"]}");
        LmCliTest.Run submit = LmCliTest.run("submit", "--file", request.toString(), "--config", clientConfig.toString(),
                "--wait", "--timeout", "90s", "--poll", "200ms", "--json");
        assertEquals(0, submit.exitCode(), submit.out() + submit.err());
        JsonNode life = CliJson.MAPPER.readTree(submit.out().strip());
        assertEquals("VERIFIED", life.path("terminal").asText(), submit.out());
        assertTrue(life.path("purged").asBoolean(), submit.out());
        assertFalse(submit.out().contains(ERASED_WORDS.get(0)) || submit.err().contains("plain-user1-secret"),
                "neither the text nor the password is printed");

        // The audit trail, read with the same credentials through the topic.
        UUID id = UUID.fromString(life.path("requestId").asText());
        List<AuditStatus> trail = new ArrayList<>();
        try (TopicCatchUp<String, AuditEvent> audit = new TopicCatchUp<>(kafka(), Topics.AUDIT, serdes)) {
            audit.catchUp(r -> {
                if (r.value().getRequestId().equals(id)) {
                    trail.add(r.value().getStatus());
                }
            }, Duration.ofSeconds(30));
        }
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED, AuditStatus.BATCHED,
                AuditStatus.IMPORTANCE_READY, AuditStatus.UNLEARNING, AuditStatus.UNLEARNED, AuditStatus.VERIFIED,
                AuditStatus.PURGED), trail);
        requestId = id;
    }

    @Test
    @Order(5)
    void afterPurgedNoPlaintextOfTheContentIsOnDiskAndTheSealedCopyInTheTopicNoLongerOpens() throws Exception {
        assertTrue(requestId != null, "the request of the previous test reached PURGED");
        // Control: plaintext written to this broker is found by the scan in its log segments.
        try (Admin admin = broker.admin(login(EmbeddedKafka.SASL_ADMIN, EmbeddedKafka.SASL_ADMIN_PASSWORD))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("scan-control", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> p = kafka();
        try (org.apache.kafka.clients.producer.KafkaProducer<String, String> control =
                     new org.apache.kafka.clients.producer.KafkaProducer<>(p,
                             new org.apache.kafka.common.serialization.StringSerializer(),
                             new org.apache.kafka.common.serialization.StringSerializer())) {
            control.send(new org.apache.kafka.clients.producer.ProducerRecord<>("scan-control", "k", CONTROL))
                    .get(30, TimeUnit.SECONDS);
        }
        List<Path> roots = List.of(broker.dataDir(), fx.dir());
        assertEquals(1, filesHolding(CONTROL, roots).size(), "the scan finds plaintext in a log segment");

        for (String word : ERASED_WORDS) {
            assertEquals(List.of(), filesHolding(word, roots), "plaintext of the erased content on disk");
        }
        // The sealed request is still in its topic (retention has not run), but its data key is gone.
        List<dev.loku.events.ErasureRequest> copies = new ArrayList<>();
        try (TopicCatchUp<String, dev.loku.events.ErasureRequest> requests =
                     new TopicCatchUp<>(kafka(), Topics.ERASURE_REQUESTS, serdes)) {
            requests.catchUp(r -> {
                if (r.value().getRequestId().equals(requestId)) {
                    copies.add(r.value());
                }
            }, Duration.ofSeconds(30));
        }
        assertEquals(1, copies.size());
        dev.loku.runtime.crypto.ContentSeal.UnsealException gone = assertThrows(
                dev.loku.runtime.crypto.ContentSeal.UnsealException.class,
                () -> dev.loku.runtime.crypto.SealedRequests.opened(fx.stores().seal(), copies.get(0)));
        assertEquals(dev.loku.runtime.crypto.ContentSeal.UnsealException.Reason.KEY_MISSING, gone.reason());
    }

    // --- helpers ---

    /** The regular files under {@code roots} whose bytes contain {@code word} (UTF-8; nothing here is compressed). */
    private static List<Path> filesHolding(String word, List<Path> roots) throws java.io.IOException {
        List<Path> found = new ArrayList<>();
        for (Path root : roots) {
            try (java.util.stream.Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    byte[] bytes;
                    try {
                        bytes = Files.readAllBytes(f);
                    } catch (java.nio.file.NoSuchFileException e) {
                        continue; // a segment or state file rolled away while walking
                    }
                    if (new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).contains(word)) {
                        found.add(f);
                    }
                }
            }
        }
        return found;
    }

    private static Map<String, Object> login(String user, String password) {
        return new HashMap<>(KafkaSecurityConfig.sasl("SASL_PLAINTEXT", "PLAIN", user, password).clientSettings());
    }

    private static AclBinding allow(ResourcePattern pattern) {
        return new AclBinding(pattern, new AccessControlEntry("User:" + SERVICE_USER, "*", AclOperation.ALL,
                AclPermissionType.ALLOW));
    }

    /** A client's settings for the secured broker, as the services build them. */
    private Map<String, Object> kafka() {
        Map<String, Object> c = login(SERVICE_USER, SERVICE_PASSWORD);
        c.put("bootstrap.servers", broker.bootstrapServers());
        return c;
    }

    /** A service's settings: the fixtures' common ones, the secured broker, its security by typed fields. */
    private Map<String, String> settings(String instance) {
        Map<String, String> s = fx.commonSettings(instance);
        s.put("bootstrap.servers", broker.bootstrapServers());
        s.put("registry.url", registry.ccompatUrl());
        s.put("kafka.security.protocol", "SASL_PLAINTEXT");
        s.put("kafka.sasl.mechanism", "PLAIN");
        s.put("kafka.sasl.username", SERVICE_USER);
        s.put("kafka.sasl.password", SERVICE_PASSWORD);
        return s;
    }

    private void start(Service service) throws Exception {
        service.start();
        services.add(service);
    }
}
