package dev.loku.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.deploy.CodeFacts.ServiceSpec;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.ErasureRequest;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.runtime.testing.TestClients;
import dev.loku.runtime.testing.WithLokuStack;
import dev.loku.schemas.Topics;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest jar, with only what its manifest puts on the class path (no in-process broker, no test jars), runs
 * against a real broker and registry the way its image runs it: configured by LOKU_* variables alone, with the
 * compose stack's model catalogue. It reports UP on /health, accepts a request (Avro, registry serdes and the
 * artifact store all work in that JVM), logs through its own logging set-up, and stops cleanly on SIGTERM.
 */
@WithLokuStack
class IngestJarIT {

    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void theIngestJarRunsTheServiceFromItsManifestClassPath(StackEndpoints stack, RegistrySerdes serdes) throws Exception {
        ServiceSpec ingest = CodeFacts.fromCode().services().stream().filter(s -> s.name().equals("ingest")).findFirst()
                .orElseThrow();
        int port = freePort();
        Map<String, String> env = Map.of(
                "LOKU_BOOTSTRAP_SERVERS", stack.bootstrapServers(),
                "LOKU_REGISTRY_URL", stack.ccompatUrl(),
                "LOKU_ARTIFACTS_ROOT", dir.resolve("artifacts").toString(),
                "LOKU_MODELS_CATALOGUE", DeployFiles.projectRoot().resolve("deploy/compose/catalogue.json").toString(),
                "LOKU_HTTP_PORT", Integer.toString(port),
                "LOKU_SERVICE_INSTANCE_ID", "jar-it",
                "LOKU_INGEST_APPLICATION_ID", "jar-it-" + UUID.randomUUID().toString().substring(0, 8),
                "LOKU_INGEST_STATE_DIR", dir.resolve("state").toString());
        long started = System.nanoTime();
        Process process = ServiceJar.of(ingest).start(dir, env);
        double up = 0;
        double accepted = 0;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        try {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (status(http, port, "/health") != 200) {
                assertTrue(process.isAlive(), () -> "the jar exited with " + process.exitValue() + ":\n" + stderr());
                assertTrue(System.nanoTime() < deadline, () -> "/health not UP within " + WAIT + ":\n" + stderr());
                Thread.sleep(250);
            }
            up = seconds(started);
            String metrics = body(http, port, "/metrics");
            assertTrue(metrics.contains("loku_up{service=\"ingest\"} 1"), metrics);

            // A request for the compose catalogue's model and tenant is accepted: decoded, validated, stored.
            // Producers seal the content under the request's own key, in the key store the services share (by
            // default <artifacts.root>/keys); ingest refuses plaintext.
            ErasureRequest request = dev.loku.runtime.crypto.SealedRequests.sealed(
                    new dev.loku.runtime.crypto.ContentSeal(new dev.loku.runtime.crypto.DirectoryDataKeyStore(
                            dir.resolve("artifacts").resolve("keys"))),
                    ErasureRequest.newBuilder(SampleEvents.erasureRequest("stories260k")).setTenantId("acme").build());
            try (KafkaProducer<String, ErasureRequest> producer = TestClients.producer(stack,
                    Topics.ERASURE_REQUESTS.keySerde().serializer(), serdes.valueSerializer(Topics.ERASURE_REQUESTS))) {
                producer.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), request.getRequestId().toString(),
                        request)).get(30, TimeUnit.SECONDS);
            }
            try (KafkaConsumer<String, AuditEvent> audit = TestClients.consumer(stack,
                    Topics.AUDIT.keySerde().deserializer(), serdes.valueDeserializer(Topics.AUDIT))) {
                List<ConsumerRecord<String, AuditEvent>> events = TestClients.readAll(audit, Topics.AUDIT.name(), 1,
                        r -> r.value().getRequestId().equals(request.getRequestId())
                                && r.value().getStatus() == AuditStatus.ACCEPTED, WAIT);
                assertEquals(1, events.size(), () -> "no ACCEPTED audit event; stderr:\n" + stderr());
                assertEquals("ingest-service/jar-it", events.get(0).value().getService());
            }
            accepted = seconds(started);
        } finally {
            process.destroy(); // SIGTERM, as docker stop and Kubernetes send
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        System.out.printf("ingest jar: /health UP after %.1f s, request ACCEPTED after %.1f s, exited after %.1f s%n",
                up, accepted, seconds(started));
        // A signal ends the JVM with the signal's status once the service has stopped.
        assertEquals(143, process.exitValue(), this::stderr);
        String log = stderr();
        assertTrue(log.contains("event=service_started service=ingest http_port=" + port), log);
        assertTrue(log.contains("event=service_stopped service=ingest"), log);
        assertFalse(log.contains("\tat "), () -> "stack trace in the log:\n" + log);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private String stderr() {
        return ServiceJar.read(dir.resolve("stderr.txt"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static int status(HttpClient http, int port, String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1; // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String body(HttpClient http, int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
