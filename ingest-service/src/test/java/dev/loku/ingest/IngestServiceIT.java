package dev.loku.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.DeadLetter;
import dev.loku.events.ErasureRequest;
import dev.loku.events.ForgetSetMember;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.QaPair;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.service.ServiceHttpServer;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.runtime.testing.TcpProxy;
import dev.loku.runtime.testing.TestCatalogues;
import dev.loku.runtime.testing.TestClients;
import dev.loku.runtime.testing.WithLokuStack;
import dev.loku.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The ingest service on the real broker and registry: good and bad requests in, and from the audit topic every
 * request's statuses and reasons, the dead letter's location, exactly the expected forget sets (by count, by time,
 * and held by the gate until a verdict arrives on loku.verifications), and no request content in any audit event,
 * dead-letter reason, metric scrape or log line.
 */
@WithLokuStack
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class IngestServiceIT {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String SECRET = "Zelda Secretperson";

    @TempDir
    Path dir;

    @Test
    @org.junit.jupiter.api.Order(1)
    void requestsGetTheirAuditTrailForgetSetsAndDeadLettersWithoutLeakingContent(StackEndpoints stack,
                                                                                 RegistrySerdes serdes) throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(logs);

        Path catalogue = TestCatalogues.write(dir.resolve("conf"), Map.of("it-model-a", List.of("acme"),
                "it-model-b", List.of("acme")));
        Map<String, String> settings = settings(stack, catalogue, "it-1");
        settings.put("registry.url", stack.ccompatUrl());
        settings.put("ingest.batch.max.requests", "2");
        settings.put("ingest.batch.max.wait", "3s");
        settings.put("ingest.batch.check.interval", "200ms");
        settings.put("ingest.commit.interval", "100ms");
        settings.put("ingest.max.content.bytes", "400");
        IngestService service = new IngestService(IngestConfig.of(settings));

        ErasureRequest a1 = request("it-model-a", "acme", 1);
        ErasureRequest a2 = request("it-model-a", "acme", 2);
        ErasureRequest b1 = request("it-model-b", "acme", 3);
        ErasureRequest empty = ErasureRequest.newBuilder(request("it-model-a", "acme", 4)).setTexts(List.of()).setQaPairs(List.of()).build();
        ErasureRequest unknownModel = request("it-model-z", "acme", 5);
        ErasureRequest wrongTenant = request("it-model-a", "initech", 6);
        ErasureRequest oversize = ErasureRequest.newBuilder(request("it-model-a", "acme", 7))
                .setTexts(List.of(SECRET + " " + "x".repeat(420))).setQaPairs(List.of()).build();
        UUID garbageId = UUID.randomUUID();

        HttpClient http = HttpClient.newHttpClient();
        try (ServiceHttpServer server = ServiceHttpServer.start(service, 0);
             KafkaProducer<String, ErasureRequest> producer = TestClients.producer(stack,
                     Topics.ERASURE_REQUESTS.keySerde().serializer(), serdes.valueSerializer(Topics.ERASURE_REQUESTS));
             KafkaProducer<byte[], byte[]> raw = TestClients.rawProducer(stack)) {
            assertEquals(503, get(http, server, "/health").statusCode(), "not up before start");
            service.start();
            waitFor(() -> get(http, server, "/health").statusCode() == 200, "health 200 once the stream runs");

            for (ErasureRequest r : List.of(a1, a2, b1, a1, empty, unknownModel, wrongTenant, oversize)) {
                producer.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), r.getRequestId().toString(),
                        dev.loku.runtime.crypto.SealedRequests.sealed(new dev.loku.runtime.crypto.ContentSeal(
                                new dev.loku.runtime.crypto.DirectoryDataKeyStore(dir.resolve("artifacts/keys"))), r)))
                        .get(30, TimeUnit.SECONDS);
            }
            RecordMetadata garbageAt = raw.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(),
                    garbageId.toString().getBytes(StandardCharsets.UTF_8),
                    "{\"not\": \"avro\"}".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);

            // Two sets: model A cut by count (2 requests), model B cut by time (3 s).
            List<ForgetSetReady> sets = readUntil(stack, serdes, 2, s -> s.getModelId().startsWith("it-model-"));
            ForgetSetReady setA = sets.stream().filter(s -> s.getModelId().equals("it-model-a")).findFirst().orElseThrow();
            ForgetSetReady setB = sets.stream().filter(s -> s.getModelId().equals("it-model-b")).findFirst().orElseThrow();
            assertEquals(Set.of(a1.getRequestId(), a2.getRequestId()), memberIds(setA));
            assertEquals(Set.of(b1.getRequestId()), memberIds(setB));
            assertEquals("v0", setA.getBaseModelVersion());

            // Model A is now in flight: two more requests wait behind the gate until a final verdict arrives.
            ErasureRequest a3 = request("it-model-a", "acme", 8);
            ErasureRequest a4 = request("it-model-a", "acme", 9);
            for (ErasureRequest r : List.of(a3, a4)) {
                producer.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), r.getRequestId().toString(),
                        dev.loku.runtime.crypto.SealedRequests.sealed(new dev.loku.runtime.crypto.ContentSeal(
                                new dev.loku.runtime.crypto.DirectoryDataKeyStore(dir.resolve("artifacts/keys"))), r)))
                        .get(30, TimeUnit.SECONDS);
            }
            waitFor(() -> statuses(readAudit(stack, serdes), a4.getRequestId()).contains(AuditStatus.ACCEPTED), "a4 accepted");
            Thread.sleep(4_000); // longer than ingest.batch.max.wait: only the gate holds them now
            assertEquals(2, readSets(stack, serdes, Duration.ofSeconds(2)).size(), "held while set A is in flight");

            try (KafkaProducer<String, VerificationResult> verdicts = TestClients.producer(stack,
                    Topics.VERIFICATIONS.keySerde().serializer(), serdes.valueSerializer(Topics.VERIFICATIONS))) {
                verdicts.send(new ProducerRecord<>(Topics.VERIFICATIONS.name(), "it-model-a",
                        IngestTopologyTest.verdict(setA, setA.getForgetSetId(), Verdict.PASS, false, "v1-0a0b0c0d")))
                        .get(30, TimeUnit.SECONDS);
            }
            List<ForgetSetReady> three = readUntil(stack, serdes, 3, s -> s.getModelId().startsWith("it-model-"));
            ForgetSetReady setA2 = three.stream().filter(s -> !s.getForgetSetId().equals(setA.getForgetSetId())
                    && !s.getForgetSetId().equals(setB.getForgetSetId())).findFirst().orElseThrow();
            assertEquals(Set.of(a3.getRequestId(), a4.getRequestId()), memberIds(setA2));
            assertEquals("v1-0a0b0c0d", setA2.getBaseModelVersion(), "the PASS advanced model A's version");

            // The audit trail, read committed.
            Map<UUID, List<AuditEvent>> trail = byRequest(readAudit(stack, serdes));
            for (ErasureRequest r : List.of(a1, a2, b1, a3, a4)) {
                assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED, AuditStatus.BATCHED),
                        statuses(trail.get(r.getRequestId())), "trail of " + r.getRequestId());
            }
            assertEquals(setA.getForgetSetId(), trail.get(a1.getRequestId()).get(2).getForgetSetId(),
                    "the re-sent a1 made no second trail nor member");
            assertRejected(trail, empty, "no texts and no qaPairs");
            assertRejected(trail, unknownModel, "model is not in the model catalogue");
            assertRejected(trail, wrongTenant, "tenant is not allowed to file requests for this model");
            assertRejected(trail, oversize, "content is " + (SECRET.length() + 421) + " bytes, over the limit of 400");
            List<AuditEvent> garbage = trail.get(garbageId);
            assertEquals(List.of(AuditStatus.DEAD_LETTERED, AuditStatus.REJECTED), statuses(garbage));
            assertEquals("value is not in the Confluent wire format: first byte 0x7b, expected 0x00", garbage.get(0).getReason());

            List<DeadLetter> letters = readDeadLetters(stack, serdes, garbageAt);
            assertEquals(1, letters.size());
            assertEquals(Topics.ERASURE_REQUESTS.name(), letters.get(0).getSourceTopic());
            assertEquals(garbageAt.partition(), letters.get(0).getPartition());
            assertEquals(garbageAt.offset(), letters.get(0).getOffset());

            String metrics = get(http, server, "/metrics").body();
            assertTrue(metrics.contains("loku_requests_total{service=\"ingest\",status=\"REJECTED\"} 5"), metrics);
            assertTrue(metrics.contains("loku_duplicates_total{service=\"ingest\"} 1"), metrics);
            assertTrue(metrics.contains("loku_dead_letters_total{service=\"ingest\"} 1"), metrics);
            assertTrue(metrics.contains("loku_up{service=\"ingest\"} 1"), metrics);
            assertTrue(metrics.contains("loku_consumer_lag{service=\"ingest\"} "), metrics);

            // No content anywhere: audit events, dead-letter reasons, metrics, log lines.
            List<String> places = new ArrayList<>();
            readAudit(stack, serdes).forEach(e -> places.add("audit " + e));
            letters.forEach(l -> places.add("dead letter reason " + l.getReason()));
            places.add("metrics " + metrics);
            for (ILoggingEvent e : logs.list) {
                places.add("log " + e.getFormattedMessage() + throwableText(e.getThrowableProxy()));
            }
            assertTrue(logs.list.size() > 10, "the log was captured");
            for (String place : places) {
                assertFalse(place.contains("Secretperson") || place.contains("Hidden Lane") || place.contains("secret answer"),
                        "content leaked: " + place);
            }
        } finally {
            service.stop();
            root.detachAppender(logs);
        }
        assertFalse(service.health().isUp());
    }

    /**
     * Runs second: its ingest (a new application) reads the request topic from the start, the first test's records
     * included (the garbage one makes it write a dead letter, whose schema it cannot register while cut off).
     */
    @Test
    @org.junit.jupiter.api.Order(2)
    void aColdIngestThatCannotReachTheRegistryWaitsAndAcceptsTheRequestOnceItIsBack(StackEndpoints stack,
                                                                                  RegistrySerdes serdes) throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(logs);
        URI registry = URI.create(stack.ccompatUrl());
        Path catalogue = TestCatalogues.write(dir.resolve("conf"), Map.of("it-model-r", List.of("acme")));
        Map<String, String> settings = settings(stack, catalogue, "it-r");
        settings.put("ingest.commit.interval", "100ms");
        // The broker's minimum: a replaced stream thread's predecessor leaves the group after 6 s, not 45 s.
        settings.put("kafka.session.timeout.ms", "6000");
        ErasureRequest r = request("it-model-r", "acme", 1);
        try (TcpProxy proxy = TcpProxy.start(registry.getHost(), registry.getPort());
             KafkaProducer<String, ErasureRequest> producer = TestClients.producer(stack,
                     Topics.ERASURE_REQUESTS.keySerde().serializer(), serdes.valueSerializer(Topics.ERASURE_REQUESTS))) {
            // This ingest reaches the registry only through the proxy, and has no schema cached.
            settings.put("registry.url", new URI(registry.getScheme(), null, registry.getHost(), proxy.port(),
                    registry.getPath(), null, null).toString());
            IngestService service = new IngestService(IngestConfig.of(settings));
            try {
                // Cut before the start: a stream that ran first would have cached the schemas it then needs.
                proxy.cut();
                service.start();
                producer.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), r.getRequestId().toString(),
                        dev.loku.runtime.crypto.SealedRequests.sealed(new dev.loku.runtime.crypto.ContentSeal(
                                new dev.loku.runtime.crypto.DirectoryDataKeyStore(dir.resolve("artifacts/keys"))), r)))
                        .get(30, TimeUnit.SECONDS);
                waitFor(() -> new ArrayList<>(logs.list).stream().anyMatch(e -> e.getFormattedMessage()
                        .contains("event=registry_unavailable service=ingest attempt=2")), "two waits for the registry");
                assertEquals(List.of(), statuses(readAudit(stack, serdes), r.getRequestId()),
                        "nothing decided while the registry was out of reach (no REJECTED, no dead letter)");

                proxy.restore();
                waitFor(() -> statuses(readAudit(stack, serdes), r.getRequestId()).contains(AuditStatus.ACCEPTED),
                        "the request accepted once the registry answered");
                assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED),
                        statuses(readAudit(stack, serdes), r.getRequestId()), "one trail, read once: exactly-once");
                assertTrue(service.health().isUp(), "ingest is up: " + service.health());
                for (ILoggingEvent e : new ArrayList<>(logs.list)) {
                    assertFalse(e.getFormattedMessage().contains("Secretperson"), e.getFormattedMessage());
                }
            } finally {
                service.stop();
            }
        } finally {
            root.detachAppender(logs);
        }
    }

    /**
     * Runs third, on a real full volume: the artifact store is a 4 MiB tmpfs filled to the last byte. The request
     * is not rejected, not dead-lettered and not lost: ingest rolls its transaction back and waits (pauses that
     * double), and accepts it, once, when room is made. Needs the right to mount a tmpfs (root with CAP_SYS_ADMIN);
     * skipped, saying so, elsewhere.
     */
    @Test
    @org.junit.jupiter.api.Order(3)
    void anIngestWhoseArtifactStoreIsFullWaitsAndAcceptsTheRequestOnceThereIsRoom(StackEndpoints stack,
                                                                                  RegistrySerdes serdes) throws Exception {
        Path volume = Files.createDirectories(dir.resolve("small-volume"));
        String mounted = run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", volume.toString());
        org.junit.jupiter.api.Assumptions.assumeTrue(mounted == null,
                () -> "a full artifact store needs a small volume, and mounting a tmpfs failed here: " + mounted);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(logs);
        try {
            Path filler = volume.resolve("filler.bin");
            try (var out = Files.newOutputStream(filler)) {
                byte[] block = new byte[64 * 1024];
                while (true) {
                    out.write(block);
                    out.flush();
                }
            } catch (java.io.IOException full) {
                assertTrue(String.valueOf(full.getMessage()).contains("No space left"), full.toString());
            }
            Path catalogue = TestCatalogues.write(dir.resolve("conf"), Map.of("it-model-f", List.of("acme")));
            Map<String, String> settings = settings(stack, catalogue, "it-f");
            settings.put("registry.url", stack.ccompatUrl());
            settings.put("artifacts.root", volume.resolve("artifacts").toString());
            settings.put("keys.root", dir.resolve("keys").toString());
            settings.put("artifacts.retry.attempts", "2");
            settings.put("artifacts.retry.backoff", "50ms");
            settings.put("ingest.commit.interval", "100ms");
            settings.put("kafka.session.timeout.ms", "6000");
            ErasureRequest r = request("it-model-f", "acme", 7);
            IngestService service = new IngestService(IngestConfig.of(settings));
            try (KafkaProducer<String, ErasureRequest> producer = TestClients.producer(stack,
                    Topics.ERASURE_REQUESTS.keySerde().serializer(), serdes.valueSerializer(Topics.ERASURE_REQUESTS))) {
                service.start();
                producer.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), r.getRequestId().toString(),
                        dev.loku.runtime.crypto.SealedRequests.sealed(new dev.loku.runtime.crypto.ContentSeal(
                                new dev.loku.runtime.crypto.DirectoryDataKeyStore(dir.resolve("keys"))), r)))
                        .get(30, TimeUnit.SECONDS);
                waitFor(() -> new ArrayList<>(logs.list).stream().anyMatch(e -> e.getFormattedMessage()
                        .contains("event=storage_unavailable service=ingest attempt=2")), "two waits for the store");
                assertTrue(new ArrayList<>(logs.list).stream().anyMatch(e -> e.getFormattedMessage()
                        .contains("No space left on device")), "the log names the file system's error");
                assertEquals(List.of(), statuses(readAudit(stack, serdes), r.getRequestId()),
                        "nothing decided while the store was full (no REJECTED, no dead letter)");

                Files.delete(filler);
                waitFor(() -> statuses(readAudit(stack, serdes), r.getRequestId()).contains(AuditStatus.ACCEPTED),
                        "the request accepted once the store had room");
                assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.ACCEPTED),
                        statuses(readAudit(stack, serdes), r.getRequestId()), "one trail, read once: exactly-once");
                assertTrue(service.health().isUp(), "ingest is up: " + service.health());
                for (ILoggingEvent e : new ArrayList<>(logs.list)) {
                    assertFalse(e.getFormattedMessage().contains("Secretperson"), e.getFormattedMessage());
                }
            } finally {
                service.stop();
            }
        } finally {
            root.detachAppender(logs);
            String unmounted = run("umount", volume.toString());
            assertEquals(null, unmounted, "the test unmounts what it mounted");
        }
    }

    /** Runs a command; null when it exits 0, else what it printed and its exit status. */
    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + ": no exit within 30 s";
        }
        return p.exitValue() == 0 ? null : String.join(" ", command) + " exited " + p.exitValue() + ": " + out;
    }

    /** An ingest of its own (a new application id) on this test's folders; the caller adds the registry. */
    private Map<String, String> settings(StackEndpoints stack, Path catalogue, String instance) {
        Map<String, String> settings = new HashMap<>();
        settings.put("bootstrap.servers", stack.bootstrapServers());
        settings.put("artifacts.root", dir.resolve("artifacts").toString());
        settings.put("models.catalogue", catalogue.toString());
        settings.put("http.port", "0");
        settings.put("service.instance.id", instance);
        settings.put("ingest.application.id", "it-ingest-" + instance + "-"
                + UUID.randomUUID().toString().substring(0, 8));
        settings.put("ingest.state.dir", dir.resolve("state").toString());
        return settings;
    }

    private static ErasureRequest request(String model, String tenant, int n) {
        return ErasureRequest.newBuilder(SampleEvents.erasureRequest(model)).setTenantId(tenant)
                .setTexts(List.of(SECRET + " " + n + " lives at " + n + " Hidden Lane."))
                .setQaPairs(List.of(new QaPair("Where does " + SECRET + " " + n + " live?", "The secret answer " + n)))
                .build();
    }

    private static void assertRejected(Map<UUID, List<AuditEvent>> trail, ErasureRequest r, String reason) {
        List<AuditEvent> events = trail.get(r.getRequestId());
        assertNotNull(events, "no audit trail for " + r.getRequestId());
        assertEquals(List.of(AuditStatus.RECEIVED, AuditStatus.REJECTED), statuses(events));
        assertEquals(reason, events.get(1).getReason());
        assertNull(events.get(1).getForgetSetId());
    }

    private static Set<UUID> memberIds(ForgetSetReady s) {
        return Set.copyOf(s.getMembers().stream().map(ForgetSetMember::getRequestId).toList());
    }

    private static List<AuditStatus> statuses(List<AuditEvent> events) {
        return events == null ? List.of() : events.stream().map(AuditEvent::getStatus).toList();
    }

    private static List<AuditStatus> statuses(List<AuditEvent> all, UUID id) {
        return statuses(byRequest(all).get(id));
    }

    private static Map<UUID, List<AuditEvent>> byRequest(List<AuditEvent> events) {
        Map<UUID, List<AuditEvent>> m = new HashMap<>();
        for (AuditEvent e : events) {
            m.computeIfAbsent(e.getRequestId(), k -> new ArrayList<>()).add(e);
        }
        m.values().forEach(l -> l.sort(Comparator.comparing(AuditEvent::getTime)));
        return m;
    }

    private static List<AuditEvent> readAudit(StackEndpoints stack, RegistrySerdes serdes) {
        try (KafkaConsumer<String, AuditEvent> c = TestClients.consumer(stack, Topics.AUDIT.keySerde().deserializer(),
                serdes.valueDeserializer(Topics.AUDIT))) {
            return TestClients.readAll(c, Topics.AUDIT.name(), Integer.MAX_VALUE, r -> true, Duration.ofSeconds(2))
                    .stream().map(ConsumerRecord::value).toList();
        }
    }

    private static List<ForgetSetReady> readSets(StackEndpoints stack, RegistrySerdes serdes, Duration timeout) {
        try (KafkaConsumer<String, ForgetSetReady> c = TestClients.consumer(stack, Topics.FORGET_SETS.keySerde().deserializer(),
                serdes.valueDeserializer(Topics.FORGET_SETS))) {
            return TestClients.readAll(c, Topics.FORGET_SETS.name(), Integer.MAX_VALUE,
                    r -> r.value().getModelId().startsWith("it-model-"), timeout).stream().map(ConsumerRecord::value).toList();
        }
    }

    private static List<ForgetSetReady> readUntil(StackEndpoints stack, RegistrySerdes serdes, int count,
                                                  Predicate<ForgetSetReady> filter) {
        try (KafkaConsumer<String, ForgetSetReady> c = TestClients.consumer(stack, Topics.FORGET_SETS.keySerde().deserializer(),
                serdes.valueDeserializer(Topics.FORGET_SETS))) {
            List<ForgetSetReady> sets = TestClients.readAll(c, Topics.FORGET_SETS.name(), count, r -> filter.test(r.value()), WAIT)
                    .stream().map(ConsumerRecord::value).toList();
            assertEquals(count, sets.size(), "forget sets: " + sets.stream().map(ForgetSetReady::getModelId).toList());
            return sets;
        }
    }

    private static List<DeadLetter> readDeadLetters(StackEndpoints stack, RegistrySerdes serdes, RecordMetadata at) {
        try (KafkaConsumer<byte[], DeadLetter> c = TestClients.consumer(stack, Topics.DEAD_LETTERS.keySerde().deserializer(),
                serdes.valueDeserializer(Topics.DEAD_LETTERS))) {
            return TestClients.readAll(c, Topics.DEAD_LETTERS.name(), Integer.MAX_VALUE,
                    r -> r.value().getSourceTopic().equals(at.topic()), Duration.ofSeconds(3))
                    .stream().map(ConsumerRecord::value).toList();
        }
    }

    private static HttpResponse<String> get(HttpClient http, ServiceHttpServer server, String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String throwableText(IThrowableProxy t) {
        StringBuilder sb = new StringBuilder();
        for (IThrowableProxy p = t; p != null; p = p.getCause()) {
            sb.append(' ').append(p.getClassName()).append(": ").append(p.getMessage());
        }
        return sb.toString();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
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
