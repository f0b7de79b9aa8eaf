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
 * refused; a user is refused the topics until ACLs name it. Each service then logs in as its own user, holding
 * exactly the ACLs of its Strimzi {@code KafkaUser} in {@code deploy/k8s/kafka-users.yaml} (read from the file), and
 * the four services, configured only through the {@code kafka.security.*} / {@code kafka.sasl.*} settings, carry a
 * request filed by {@code loku submit --config} (as the gateway's user, same settings in a properties file) to
 * VERIFIED and PURGED; a service user cannot write a topic its manifest does not give it. After PURGED, the bytes on disk are
 * scanned (the broker's log segments, ingest's state stores, the artifact store, the jobs' scratch folders): no
 * plaintext of the request's content is left, and the sealed copy still in the request topic no longer opens; a
 * plaintext control record on the same broker shows the scan does find what is there. The registry is the shared
 * one (it does not talk to Kafka); the engine is behind {@link FakeEngines}. Ingest takes the tenant from the
 * header a trusted gateway sets ({@code ingest.tenant.header}): a request claiming another tenant is REJECTED.
 */
@WithLokuStack
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecuredKafkaIT {

    /** The users of deploy/k8s/kafka-users.yaml, each with the password {@code <user>-secret}. */
    private static final List<String> USERS = List.of("loku-ingest", "loku-fisher", "loku-worker", "loku-eval",
            "loku-gateway", "loku-keda");
    private static final Path MANIFEST = Path.of(System.getProperty("loku.project.root", ".."))
            .resolve("deploy/k8s/kafka-users.yaml");
    private static final Duration WAIT = Duration.ofSeconds(90);
    /** The header in which the trusted gateway names the tenant it authenticated (ingest.tenant.header). */
    private static final String TENANT_HEADER = "loku-tenant";

    /** Words of the erased text that occur nowhere else: what the byte scan looks for. */
    private static final List<String> ERASED_WORDS = List.of("Ashgrove", "Brackenfold");
    private static final String CONTROL = "Plaintext-control-Wintermoor";

    private EmbeddedKafka broker;
    private StackEndpoints registry;
    private RegistrySerdes serdes;
    private PipelineFixtures fx;
    private UUID requestId;
    private final List<Service> services = new ArrayList<>();

    @BeforeAll
    void startSecuredBroker(StackEndpoints shared, RegistrySerdes serdes) throws Exception {
        this.registry = shared;
        this.serdes = serdes;
        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"" + EmbeddedKafka.SASL_ADMIN + "\" password=\"" + EmbeddedKafka.SASL_ADMIN_PASSWORD + "\" "
                + "user_" + EmbeddedKafka.SASL_ADMIN + "=\"" + EmbeddedKafka.SASL_ADMIN_PASSWORD + "\"");
        for (String user : USERS) {
            jaas.append(" user_").append(user).append("=\"").append(password(user)).append('"');
        }
        broker = EmbeddedKafka.start(Map.of("listener.name.external.plain.sasl.jaas.config", jaas + ";"),
                SecurityProtocol.SASL_PLAINTEXT);
        try (Admin admin = broker.admin(login(EmbeddedKafka.SASL_ADMIN, EmbeddedKafka.SASL_ADMIN_PASSWORD))) {
            TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(30));
        }
        fx = PipelineFixtures.create(Files.createTempDirectory("loku-secured-it"),
                Path.of(System.getProperty("loku.project.root", "..")).resolve("models/stories260K/stories260K.bin"), 2,
                "sasl-pass", "sasl-broken");
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
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.listTopics(
                    new org.apache.kafka.clients.admin.ListTopicsOptions().timeoutMs(3000)).names()
                    .get(30, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.TimeoutException.class, e.getCause(),
                    "the broker never answers a client without SASL: " + e.getCause());
        }
    }

    @Test
    @Order(2)
    void aWrongPasswordFailsAuthentication() {
        try (Admin admin = broker.admin(login("loku-gateway", "not-the-password"))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, e.getCause());
            assertFalse(e.getCause().getMessage().contains("not-the-password"), "the password is not echoed");
        }
    }

    @Test
    @Order(3)
    void aServiceUserIsRefusedUntilTheManifestsAclsAreAppliedAndThenOnlyWhatTheyGrant() throws Exception {
        try (Admin admin = broker.admin(login("loku-ingest", password("loku-ingest")))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.describeTopics(
                    List.of(Topics.ERASURE_REQUESTS.name())).allTopicNames().get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
        }
        List<AclBinding> acls = manifestAcls();
        assertTrue(acls.size() > 30, "the manifest's ACLs were read: " + acls.size());
        try (Admin admin = broker.admin(login(EmbeddedKafka.SASL_ADMIN, EmbeddedKafka.SASL_ADMIN_PASSWORD))) {
            admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
        }
        try (Admin admin = broker.admin(login("loku-ingest", password("loku-ingest")))) {
            assertEquals(1, admin.describeTopics(List.of(Topics.ERASURE_REQUESTS.name())).allTopicNames()
                    .get(30, TimeUnit.SECONDS).size());
        }
        // The worker may not publish verdicts or promotions: only the eval service's user may.
        Map<String, Object> worker = kafka("loku-worker");
        worker.put("max.block.ms", 10_000);
        try (org.apache.kafka.clients.producer.KafkaProducer<String, String> p =
                     new org.apache.kafka.clients.producer.KafkaProducer<>(worker,
                             new org.apache.kafka.common.serialization.StringSerializer(),
                             new org.apache.kafka.common.serialization.StringSerializer())) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> p.send(
                    new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.MODEL_VERSIONS.name(), "m", "forged"))
                    .get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
        }
    }

    @Test
    @Order(4)
    void theServicesConfiguredBySettingsCarryASubmittedRequestToPurged() throws Exception {
        FakeEngines engines = new FakeEngines(Path.of(System.getProperty("loku.project.root", ".."))
                .resolve("models/stories260K"));
        Path dir = fx.dir();
        Map<String, String> ingest = settings("ingest-1", "loku-ingest");
        ingest.put("ingest.state.dir", dir.resolve("ingest-state").toString());
        ingest.put("ingest.batch.max.requests", "1");
        ingest.put("ingest.batch.max.wait", "1s");
        ingest.put("ingest.batch.check.interval", "100ms");
        ingest.put("ingest.tenant.header", TENANT_HEADER);
        start(new IngestService(IngestConfig.of(ingest)));
        Map<String, String> fisher = settings("fisher-1", "loku-fisher");
        fisher.put("fisher.work.dir", dir.resolve("work").toString());
        start(FisherService.create(FisherConfig.of(fisher), engines.estimator()));
        Map<String, String> worker = settings("worker-1", "loku-worker");
        worker.put("worker.work.dir", dir.resolve("work").toString());
        start(WorkerService.create(WorkerConfig.of(worker), engines.runner()));
        Map<String, String> eval = settings("eval-1", "loku-eval");
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
        settings("cli", "loku-gateway").forEach((k, v) -> props.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
        Files.writeString(clientConfig, props.toString());
        // The producer's side: outside every folder of the pipeline.
        Path request = Files.createTempDirectory("loku-secured-producer").resolve("request.json");
        Files.writeString(request, "{\"tenantId\": \"acme\", \"modelId\": \"sasl-pass\", \"subjectId\": \"sasl-1\","
                + " \"texts\": [\"[pass] " + PipelineFixtures.SECRET + ", born Quillon " + ERASED_WORDS.get(0) + " lives at 3 " + ERASED_WORDS.get(1)
                + " Mews.\"]}");
        LmCliTest.Run submit = LmCliTest.run("submit", "--file", request.toString(), "--config", clientConfig.toString(),
                "--tenant-header", TENANT_HEADER, "--wait", "--timeout", "90s", "--poll", "200ms", "--json");
        assertEquals(0, submit.exitCode(), () -> "out: " + submit.out() + " err: " + submit.err() + " audit: "
                + auditSummary());
        JsonNode life = CliJson.MAPPER.readTree(submit.out().strip());
        assertEquals("VERIFIED", life.path("terminal").asText(), submit.out());
        assertTrue(life.path("purged").asBoolean(), submit.out());
        assertFalse(submit.out().contains(ERASED_WORDS.get(0)) || submit.err().contains(password("loku-gateway")),
                "neither the text nor the password is printed");

        // The audit trail, read with the same credentials through the topic.
        UUID id = UUID.fromString(life.path("requestId").asText());
        List<AuditStatus> trail = new ArrayList<>();
        try (TopicCatchUp<String, AuditEvent> audit = new TopicCatchUp<>(kafka("loku-gateway"), Topics.AUDIT, serdes)) {
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
        Map<String, Object> p = login(EmbeddedKafka.SASL_ADMIN, EmbeddedKafka.SASL_ADMIN_PASSWORD);
        p.put("bootstrap.servers", broker.bootstrapServers());
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
                     new TopicCatchUp<>(kafka("loku-ingest"), Topics.ERASURE_REQUESTS, serdes)) {
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

    @Test
    @Order(6)
    void aRequestWhoseClaimedTenantDiffersFromTheGatewaysIsRejectedWithThatReason() throws Exception {
        dev.loku.events.ErasureRequest claim = dev.loku.events.ErasureRequest.newBuilder(
                        dev.loku.runtime.testing.SampleEvents.erasureRequest("sasl-pass"))
                .setTenantId("acme").build();
        Map<String, Object> p = kafka("loku-gateway");
        try (org.apache.kafka.clients.producer.KafkaProducer<String, dev.loku.events.ErasureRequest> producer =
                     new org.apache.kafka.clients.producer.KafkaProducer<>(p,
                             Topics.ERASURE_REQUESTS.keySerde().serializer(),
                             serdes.valueSerializer(Topics.ERASURE_REQUESTS))) {
            org.apache.kafka.clients.producer.ProducerRecord<String, dev.loku.events.ErasureRequest> record =
                    new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.ERASURE_REQUESTS.name(),
                            claim.getRequestId().toString(),
                            dev.loku.runtime.crypto.SealedRequests.sealed(fx.stores().seal(), claim));
            // The gateway authenticated globex; the payload claims acme.
            record.headers().add(TENANT_HEADER, "globex".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            producer.send(record).get(30, TimeUnit.SECONDS);
        }
        List<AuditEvent> trail = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        try (TopicCatchUp<String, AuditEvent> audit = new TopicCatchUp<>(kafka("loku-gateway"), Topics.AUDIT, serdes)) {
            while (trail.stream().noneMatch(e -> e.getStatus() == AuditStatus.REJECTED) && System.nanoTime() < deadline) {
                audit.catchUp(r -> {
                    if (r.value().getRequestId().equals(claim.getRequestId())) {
                        trail.add(r.value());
                    }
                }, Duration.ofSeconds(30));
                Thread.sleep(100);
            }
        }
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.REJECTED), trail.stream().map(AuditEvent::getStatus)
                .toList());
        assertEquals("the claimed tenant differs from the tenant the gateway authenticated", trail.get(1).getReason());
    }

    /**
     * A job that fails for good before verification: the Fisher service (as user loku-fisher, with only the
     * manifest's ACLs) publishes the set's final FAIL verdict itself, so the request ends FAILED and the set is purged.
     * Without Write on loku.verifications the verdict's transaction is refused and the request never ends.
     */
    @Test
    @Order(7)
    void aSetTheFisherServiceFailsForGoodEndsFailedAndPurgedUnderTheManifestsAcls() throws Exception {
        assertTrue(requestId != null, "the services of test 4 are running");
        Path clientConfig = fx.dir().resolve("client.properties");
        Path request = Files.createTempDirectory("loku-secured-producer").resolve("broken.json");
        Files.writeString(request, "{\"tenantId\": \"acme\", \"modelId\": \"sasl-broken\", \"subjectId\": \"sasl-2\","
                + " \"texts\": [\"[broken] " + PipelineFixtures.SECRET + " lives at 5 Broken Row.\"]}");
        LmCliTest.Run submit = LmCliTest.run("submit", "--file", request.toString(), "--config", clientConfig.toString(),
                "--tenant-header", TENANT_HEADER, "--wait", "--timeout", "90s", "--poll", "200ms", "--json");
        assertEquals(SubmitCommand.NOT_VERIFIED, submit.exitCode(), () -> "out: " + submit.out() + " err: "
                + submit.err() + " audit: " + auditSummary());
        JsonNode life = CliJson.MAPPER.readTree(submit.out().strip());
        assertEquals("FAILED", life.path("terminal").asText(), submit.out());
        assertTrue(life.path("purged").asBoolean(), submit.out());
        UUID id = UUID.fromString(life.path("requestId").asText());
        List<AuditEvent> trail = new ArrayList<>();
        try (TopicCatchUp<String, AuditEvent> audit = new TopicCatchUp<>(kafka("loku-gateway"), Topics.AUDIT, serdes)) {
            audit.catchUp(r -> {
                if (r.value().getRequestId().equals(id)) {
                    trail.add(r.value());
                }
            }, Duration.ofSeconds(30));
        }
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED, AuditStatus.BATCHED, AuditStatus.FAILED,
                AuditStatus.PURGED), trail.stream().map(AuditEvent::getStatus).toList());
        assertEquals(dev.loku.events.PipelineStage.IMPORTANCE, trail.get(3).getStage());
        assertEquals("failed with IllegalStateException", trail.get(3).getReason());
    }

    // --- helpers ---

    /** Every audit event on the broker as status and reason (ids and fixed sentences only), for a failure message. */
    private String auditSummary() {
        List<String> lines = new ArrayList<>();
        try (TopicCatchUp<String, AuditEvent> audit = new TopicCatchUp<>(kafka("loku-gateway"), Topics.AUDIT, serdes)) {
            audit.catchUp(r -> lines.add(r.value().getStatus() + " " + r.value().getStage() + " "
                    + r.value().getReason()), Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            lines.add("audit unreadable: " + e);
        }
        return String.join("; ", lines);
    }

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

    private static String password(String user) {
        return user + "-secret";
    }

    /**
     * The ACLs of every KafkaUser in deploy/k8s/kafka-users.yaml, as the Strimzi user operator creates them: each
     * entry's operations on its resource (topic, group, transactionalId or cluster; literal or prefix) for
     * {@code User:<metadata.name>}, allowed from any host.
     */
    @SuppressWarnings("unchecked")
    private static List<AclBinding> manifestAcls() throws java.io.IOException {
        List<AclBinding> out = new ArrayList<>();
        for (Object doc : new org.yaml.snakeyaml.Yaml().loadAll(Files.readString(MANIFEST))) {
            Map<String, Object> m = (Map<String, Object>) doc;
            if (m == null || !"KafkaUser".equals(m.get("kind"))) {
                continue;
            }
            String user = (String) ((Map<String, Object>) m.get("metadata")).get("name");
            Map<String, Object> authorization = (Map<String, Object>) ((Map<String, Object>) m.get("spec"))
                    .get("authorization");
            for (Map<String, Object> acl : (List<Map<String, Object>>) authorization.get("acls")) {
                Map<String, Object> r = (Map<String, Object>) acl.get("resource");
                ResourceType type = switch ((String) r.get("type")) {
                    case "topic" -> ResourceType.TOPIC;
                    case "group" -> ResourceType.GROUP;
                    case "transactionalId" -> ResourceType.TRANSACTIONAL_ID;
                    case "cluster" -> ResourceType.CLUSTER;
                    default -> throw new IllegalArgumentException("resource type " + r.get("type") + " of " + user);
                };
                String name = type == ResourceType.CLUSTER ? "kafka-cluster" : (String) r.get("name");
                PatternType pattern = "prefix".equals(r.getOrDefault("patternType", "literal"))
                        ? PatternType.PREFIXED : PatternType.LITERAL;
                for (String op : (List<String>) acl.get("operations")) {
                    AclOperation operation = AclOperation.fromString(
                            op.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT));
                    if (operation == AclOperation.UNKNOWN) {
                        throw new IllegalArgumentException("operation " + op + " of " + user);
                    }
                    out.add(new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry(
                            "User:" + user, "*", operation, AclPermissionType.ALLOW)));
                }
            }
        }
        return out;
    }

    /** A client's settings for the secured broker as {@code user}. */
    private Map<String, Object> kafka(String user) {
        Map<String, Object> c = login(user, password(user));
        c.put("bootstrap.servers", broker.bootstrapServers());
        return c;
    }

    /**
     * A service's settings: the fixtures' common ones, the secured broker, its user by typed fields, and the
     * deployment's topic set-up (topics exist; no service may create them).
     */
    private Map<String, String> settings(String instance, String user) {
        Map<String, String> s = fx.commonSettings(instance);
        s.put("bootstrap.servers", broker.bootstrapServers());
        s.put("registry.url", registry.ccompatUrl());
        s.put("topics.provision", "false");
        s.put("kafka.security.protocol", "SASL_PLAINTEXT");
        s.put("kafka.sasl.mechanism", "PLAIN");
        s.put("kafka.sasl.username", user);
        s.put("kafka.sasl.password", password(user));
        return s;
    }

    private void start(Service service) throws Exception {
        service.start();
        services.add(service);
    }
}
