package dev.loku.runtime.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.loku.events.AuditEvent;
import dev.loku.events.ErasureRequest;
import dev.loku.runtime.config.RegistryConfig;
import dev.loku.runtime.serde.SchemaRegistryClient.RegistryException;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.schemas.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Confluent-protocol client's HTTP behaviour against a loopback server that answers like a registry: the
 * requests it sends (paths, content type, credentials), the cache, how each kind of refusal is reported, TLS trust
 * from a trust store, and that no error of the serdes on top of it quotes a record. The real registries are in the
 * integration tests ({@code ConfluentProtocolIT}).
 */
class SchemaRegistryClientTest {

    /** One request as the server saw it. */
    record Seen(String method, String path, String authorization, String contentType, String body) {
    }

    /** A status and a JSON body. */
    record Answer(int status, String body) {
    }

    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    /** Every server a test started (some start several), all stopped after it. */
    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    private String serve(Function<Seen, Answer> answers) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        servers.add(server);
        server.createContext("/", exchange -> answer(exchange, answers));
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void answer(HttpExchange exchange, Function<Seen, Answer> answers) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            Seen s = new Seen(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
                    exchange.getRequestHeaders().getFirst("Authorization"),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    new String(in.readAllBytes(), StandardCharsets.UTF_8));
            seen.add(s);
            Answer a = answers.apply(s);
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
            exchange.sendResponseHeaders(a.status(), body.length);
            exchange.getResponseBody().write(body);
        }
    }

    @Test
    void registersUnderTheSubjectWithBasicCredentialsAndCachesSchemasById() throws Exception {
        AtomicInteger byIdCalls = new AtomicInteger();
        String url = serve(s -> {
            if (s.method().equals("POST") && s.path().equals("/subjects/loku.audit-value/versions")) {
                return new Answer(200, "{\"id\":7}");
            }
            if (s.path().equals("/schemas/ids/9")) {
                byIdCalls.incrementAndGet();
                return new Answer(200, "{\"schema\":\"\\\"string\\\"\"}");
            }
            return new Answer(404, "{\"error_code\":40401,\"message\":\"Subject not found\"}");
        });
        SchemaRegistryClient client = new SchemaRegistryClient(new RegistryConfig(RegistryConfig.Api.CONFLUENT,
                URI.create(url + "/"), "key:sec:ret", null, null, null, "PKCS12", true));

        assertEquals(7, client.register("loku.audit-value", "{\"type\":\"string\"}"));
        Seen post = seen.get(0);
        assertEquals("application/vnd.schemaregistry.v1+json", post.contentType());
        assertEquals("{\"schema\":\"{\\\"type\\\":\\\"string\\\"}\"}", post.body());
        assertEquals("Basic a2V5OnNlYzpyZXQ=", post.authorization(), "base64 of key:sec:ret");

        assertEquals("\"string\"", client.schemaById(9).schema());
        assertEquals("\"string\"", client.schemaById(9).schema());
        assertEquals(1, byIdCalls.get(), "an id names one schema for ever: fetched once");
        assertEquals("\"string\"", client.schemaById(7).schema().replace("{\"type\":", "").replace("}", ""),
                "what it registered is cached under the id it got");
    }

    @Test
    void aBearerTokenIsSentAsSuch() throws Exception {
        String url = serve(s -> new Answer(200, "{\"compatibilityLevel\":\"FULL_TRANSITIVE\"}"));
        SchemaRegistryClient client = new SchemaRegistryClient(new RegistryConfig(RegistryConfig.Api.CONFLUENT,
                URI.create(url), null, "t0ken", null, null, "PKCS12", true));
        assertEquals("FULL_TRANSITIVE", client.globalCompatibility());
        assertEquals("Bearer t0ken", seen.get(0).authorization());
    }

    @Test
    void eachRefusalSaysWhatWasAskedAndWhatTheRegistryAnswered() throws Exception {
        Map<String, Answer> answers = new ConcurrentHashMap<>(Map.of(
                "/schemas/ids/42", new Answer(404, "{\"error_code\":40403,\"message\":\"Schema 42 not found\"}"),
                "/subjects/t-value/versions", new Answer(409, "{\"error_code\":409,\"message\":\"Schema being registered "
                        + "is incompatible with an earlier schema\"}"),
                "/subjects/denied-value/versions", new Answer(401, "{\"error_code\":401,\"message\":\"Unauthorized\"}"),
                "/config/t-value", new Answer(404, "{\"error_code\":40408,\"message\":\"Subject does not have "
                        + "subject-level compatibility configured\"}"),
                "/subjects", new Answer(502, "<html>bad gateway</html>")));
        String url = serve(s -> answers.getOrDefault(s.path(), new Answer(500, "{}")));
        SchemaRegistryClient client = new SchemaRegistryClient(url);

        RegistryException unknown = assertThrows(RegistryException.class, () -> client.schemaById(42));
        assertEquals(RegistryException.Kind.NOT_FOUND, unknown.kind());
        assertEquals(40403, unknown.errorCode());
        assertEquals("GET /schemas/ids/42 at " + url + " -> HTTP 404 error 40403: Schema 42 not found", unknown.getMessage());

        RegistryException incompatible = assertThrows(RegistryException.class, () -> client.register("t-value", "{}"));
        assertEquals(RegistryException.Kind.INCOMPATIBLE, incompatible.kind());
        assertTrue(incompatible.getMessage().endsWith("the subject's compatibility rule refuses this schema"),
                incompatible.getMessage());

        RegistryException denied = assertThrows(RegistryException.class, () -> client.register("denied-value", "{}"));
        assertEquals(RegistryException.Kind.UNAUTHORIZED, denied.kind());
        assertTrue(denied.getMessage().contains("check registry.basic.auth.user.info or registry.bearer.token"),
                denied.getMessage());

        assertEquals(java.util.Optional.empty(), client.subjectCompatibility("t-value"), "40408: inherits the global level");

        RegistryException proxy = assertThrows(RegistryException.class, client::subjects);
        assertEquals(RegistryException.Kind.FAILED, proxy.kind());
        assertEquals("GET /subjects at " + url + " -> HTTP 502", proxy.getMessage());
    }

    @Test
    void anUnreachableRegistryIsNamedWithoutItsCredentials() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        SchemaRegistryClient client = new SchemaRegistryClient(new RegistryConfig(RegistryConfig.Api.CONFLUENT,
                URI.create("http://user:pw@127.0.0.1:" + port + "/apis/ccompat/v7"), null, null, null, null, "PKCS12", true));
        RegistryException e = assertThrows(RegistryException.class, () -> client.schemaById(1));
        assertEquals(RegistryException.Kind.UNREACHABLE, e.kind());
        assertTrue(e.getMessage().startsWith("the schema registry did not answer GET /schemas/ids/1 at http://127.0.0.1:"
                + port + "/apis/ccompat/v7: ConnectException"), e.getMessage());
        assertFalse(e.getMessage().contains("pw"), e.getMessage());
    }

    @Test
    void anHttpsRegistryIsTrustedThroughTheConfiguredTrustStore(@TempDir Path dir) throws Exception {
        Path keyStore = dir.resolve("registry.p12");
        Path cert = dir.resolve("registry.crt");
        Path trustStore = dir.resolve("trust.p12");
        keytool("-genkeypair", "-alias", "registry", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keyStore.toString(), "-storepass", "serverpw");
        keytool("-exportcert", "-alias", "registry", "-keystore", keyStore.toString(), "-storepass", "serverpw",
                "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "registry-ca", "-file", cert.toString(), "-storetype", "PKCS12",
                "-keystore", trustStore.toString(), "-storepass", "trustpw");

        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            ks.load(in, "serverpw".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "serverpw".toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        https.setHttpsConfigurator(new HttpsConfigurator(ssl));
        https.createContext("/", exchange -> answer(exchange, s -> new Answer(200, "[\"loku.audit-value\"]")));
        servers.add(https);
        https.start();
        URI url = URI.create("https://127.0.0.1:" + https.getAddress().getPort());

        SchemaRegistryClient trusting = new SchemaRegistryClient(new RegistryConfig(RegistryConfig.Api.CONFLUENT, url,
                null, null, trustStore, "trustpw", "PKCS12", true));
        assertEquals(List.of("loku.audit-value"), trusting.subjects());

        SchemaRegistryClient jvmTrust = new SchemaRegistryClient(RegistryConfig.of(RegistryConfig.Api.CONFLUENT,
                url.toString()));
        RegistryException untrusted = assertThrows(RegistryException.class, jvmTrust::subjects);
        assertEquals(RegistryException.Kind.UNREACHABLE, untrusted.kind(), "a self-signed certificate is not in the JVM's trust");
        assertTrue(untrusted.getMessage().contains("SSLHandshakeException"), untrusted.getMessage());

        IllegalStateException wrongPassword = assertThrows(IllegalStateException.class, () -> new SchemaRegistryClient(
                new RegistryConfig(RegistryConfig.Api.CONFLUENT, url, null, null, trustStore, "nope", "PKCS12", true)));
        assertTrue(wrongPassword.getMessage().startsWith("cannot read the registry trust store " + trustStore),
                wrongPassword.getMessage());
        assertFalse(wrongPassword.getMessage().contains("nope"));
    }

    @Test
    void serdesErrorsNameTheSchemaAndIdNeverTheRecord() throws Exception {
        String url = serve(s -> s.path().startsWith("/schemas/ids/")
                ? new Answer(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}")
                : s.method().equals("GET") && s.path().endsWith("/versions/latest") ? SUBJECT_FOUND
                : new Answer(503, "{\"error_code\":50003,\"message\":\"Error while forwarding the request\"}"));
        ConfluentRegistrySerdes serdes = new ConfluentRegistrySerdes(new SchemaRegistryClient(url));
        ErasureRequest request = SampleEvents.erasureRequest("m1");

        SerializationException unregistered = assertThrows(SerializationException.class,
                () -> serdes.valueSerializer(Topics.ERASURE_REQUESTS).serialize(Topics.ERASURE_REQUESTS.name(), request));
        assertTrue(unregistered.getMessage().startsWith("the schema of dev.loku.events.ErasureRequest could not be "
                + "registered under subject loku.erasure-requests-value: POST"), unregistered.getMessage());
        assertNoContent(unregistered, request);

        byte[] framed = {0, 0, 0, 0, 5, 2, 4, 6};
        UndecodableValueException unknownId = assertThrows(UndecodableValueException.class,
                () -> serdes.valueDeserializer(Topics.AUDIT).deserialize(Topics.AUDIT.name(), framed));
        assertEquals("schema id 5 in the value's header could not be fetched from the registry: HTTP 404 error 40403 "
                + "(no such schema id)", unknownId.getMessage());
        UndecodableValueException notFramed = assertThrows(UndecodableValueException.class,
                () -> serdes.valueDeserializer(Topics.AUDIT).deserialize(Topics.AUDIT.name(),
                        "{\"content\":\"x\"}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("value is not in the Confluent wire format: first byte 0x7b, expected 0x00", notFramed.getMessage());
        assertEquals(null, serdes.valueDeserializer(Topics.AUDIT).deserialize(Topics.AUDIT.name(), null));
        AuditEvent unused = null;
        assertEquals(null, serdes.valueSerializer(Topics.AUDIT).serialize(Topics.AUDIT.name(), unused));
    }

    @Test
    void aRegistryThatIsDownOrFailingIsUnavailableNotABadRecordAndTheDecoderRethrowsIt() throws Exception {
        byte[] framed = {0, 0, 0, 0, 7, 2, 4, 6};
        org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> raw =
                new org.apache.kafka.clients.consumer.ConsumerRecord<>(Topics.AUDIT.name(), 0, 12L, "k".getBytes(
                        StandardCharsets.UTF_8), framed);

        String failing = serve(s -> new Answer(503, "{\"error_code\":50003,\"message\":\"forwarding failed\"}"));
        ConfluentRegistrySerdes serverError = new ConfluentRegistrySerdes(new SchemaRegistryClient(failing));
        RegistryUnavailableException e503 = assertThrows(RegistryUnavailableException.class,
                () -> serverError.valueDeserializer(Topics.AUDIT).deserialize(Topics.AUDIT.name(), framed));
        assertTrue(e503.getMessage().startsWith("schema id 7 could not be fetched: "), e503.getMessage());

        int closed;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = probe.getLocalPort(); // nothing listens there once the probe is closed
        }
        ConfluentRegistrySerdes down = new ConfluentRegistrySerdes(new SchemaRegistryClient(
                "http://127.0.0.1:" + closed));
        assertThrows(RegistryUnavailableException.class,
                () -> down.valueDeserializer(Topics.AUDIT).deserialize(Topics.AUDIT.name(), framed));
        // The decoder that turns every other error into an undecodable record throws this one: the record is fine.
        try (dev.loku.runtime.kafka.RecordDecoder<String, AuditEvent> decoder =
                     dev.loku.runtime.kafka.RecordDecoder.forTopic(Topics.AUDIT, down)) {
            assertThrows(RegistryUnavailableException.class, () -> decoder.decode(raw));
        }
        // A schema id the registry does not know, under a subject it does know, is the record's fault: undecodable.
        String unknown = serve(s -> s.path().endsWith("/versions/latest") ? SUBJECT_FOUND
                : new Answer(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}"));
        try (dev.loku.runtime.kafka.RecordDecoder<String, AuditEvent> decoder = dev.loku.runtime.kafka.RecordDecoder
                .forTopic(Topics.AUDIT, new ConfluentRegistrySerdes(new SchemaRegistryClient(unknown)))) {
            assertTrue(decoder.decode(raw).undecodable().isPresent());
        }
        assertTrue(seen.stream().anyMatch(x -> x.method().equals("GET")
                && x.path().equals("/subjects/loku.audit-value/versions/latest")), "the subject was asked: " + seen);
    }

    @Test
    void aRegistryThatLostEverySchemaOfTheTopicIsUnavailableNotEveryRecordBad() throws Exception {
        byte[] framed = {0, 0, 0, 0, 9, 2, 4, 6};
        org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> raw =
                new org.apache.kafka.clients.consumer.ConsumerRecord<>(Topics.AUDIT.name(), 0, 3L, "k".getBytes(
                        StandardCharsets.UTF_8), framed);
        // Restarted without its storage: neither the id nor the subject exists any more.
        String emptied = serve(s -> s.path().startsWith("/subjects/")
                ? new Answer(404, "{\"error_code\":40401,\"message\":\"Subject not found\"}")
                : new Answer(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}"));
        ConfluentRegistrySerdes serdes = new ConfluentRegistrySerdes(new SchemaRegistryClient(emptied));
        RegistryUnavailableException lost = assertThrows(RegistryUnavailableException.class,
                () -> serdes.valueDeserializer(Topics.AUDIT).deserialize(Topics.AUDIT.name(), framed));
        assertEquals("schema id 9 is unknown to the registry, and so is subject loku.audit-value: the registry has "
                + "lost its schemas (restarted without its storage?); waiting until they are restored", lost.getMessage());
        try (dev.loku.runtime.kafka.RecordDecoder<String, AuditEvent> decoder =
                     dev.loku.runtime.kafka.RecordDecoder.forTopic(Topics.AUDIT, serdes)) {
            assertThrows(RegistryUnavailableException.class, () -> decoder.decode(raw), "waited for, not dead-lettered");
        }
        // The id unknown and the subject lookup failing: unavailable too.
        String failingLookup = serve(s -> s.path().startsWith("/subjects/")
                ? new Answer(503, "{\"error_code\":50003,\"message\":\"forwarding failed\"}")
                : new Answer(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}"));
        assertThrows(RegistryUnavailableException.class, () -> new ConfluentRegistrySerdes(
                new SchemaRegistryClient(failingLookup)).valueDeserializer(Topics.AUDIT)
                .deserialize(Topics.AUDIT.name(), framed));
    }

    /** A subject lookup's answer: the subject exists (with some schema). */
    private static final Answer SUBJECT_FOUND = new Answer(200, "{\"subject\":\"loku.audit-value\",\"version\":1,"
            + "\"id\":1,\"schema\":\"\\\"string\\\"\"}");

    private static void assertNoContent(Throwable e, ErasureRequest request) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            assertFalse(m.contains("Testperson"), "the forget text leaked into: " + m);
            assertFalse(m.contains(request.getSubjectId()), "the subject id leaked into: " + m);
        }
    }

    private static void keytool(String... args) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = new java.util.ArrayList<>();
        command.add(keytool.toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "keytool " + String.join(" ", args) + ": " + out);
    }
}
