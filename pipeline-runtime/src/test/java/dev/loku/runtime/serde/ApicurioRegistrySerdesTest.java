package dev.loku.runtime.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.config.RegistryConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Apicurio serde settings that make the bytes Confluent's wire format and the subjects Confluent's names, and
 * the registry's credentials and trust passed on.
 */
class ApicurioRegistrySerdesTest {

    private final ApicurioRegistrySerdes serdes = new ApicurioRegistrySerdes(
            RegistryConfig.of(RegistryConfig.Api.APICURIO_V3, "http://localhost:1/apis/registry/v3"),
            Map.of("apicurio.registry.auto-register", false));

    @Test
    void serializerWritesConfluentFramingUnderTopicNameSubjectsWithSelfContainedSchemas() {
        Map<String, Object> c = serdes.serializerConfig();
        assertEquals("http://localhost:1/apis/registry/v3", c.get("apicurio.registry.url"));
        assertEquals("io.apicurio.registry.serde.strategy.TopicIdStrategy", c.get("apicurio.registry.artifact-resolver-strategy"));
        assertEquals("io.apicurio.registry.serde.Default4ByteIdHandler", c.get("apicurio.registry.id-handler"));
        assertEquals("contentId", c.get("apicurio.registry.use-id"));
        assertEquals(false, c.get("apicurio.registry.headers.enabled"));
        assertEquals(true, c.get("apicurio.registry.dereference-schema"));
        assertEquals(false, c.get("apicurio.registry.auto-register"), "overrides win over defaults");
    }

    @Test
    void deserializerReadsIntoGeneratedClasses() {
        Map<String, Object> c = serdes.deserializerConfig();
        assertEquals(true, c.get("apicurio.registry.use-specific-avro-reader"));
        assertEquals("contentId", c.get("apicurio.registry.use-id"));
        assertEquals(false, c.get("apicurio.registry.headers.enabled"));
    }

    @Test
    void aRegistryThatDoesNotAnswerIsUnavailableNotABadAvroBody() throws Exception {
        int closed;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = probe.getLocalPort(); // nothing listens there once the probe is closed
        }
        ApicurioRegistrySerdes down = new ApicurioRegistrySerdes(RegistryConfig.of(RegistryConfig.Api.APICURIO_V3,
                "http://127.0.0.1:" + closed + "/apis/registry/v3"));
        byte[] framed = {0, 0, 0, 0, 7, 2, 4, 6};
        RegistryUnavailableException e = assertThrows(RegistryUnavailableException.class, () -> down
                .valueDeserializer(dev.loku.schemas.Topics.AUDIT).deserialize("loku.audit", null, framed));
        assertTrue(e.getMessage().startsWith("schema id 7 could not be fetched"), e.getMessage());
    }

    @Test
    void basicCredentialsAndTheTrustStoreReachApicurioAndABearerTokenIsRefused() {
        RegistryConfig secured = new RegistryConfig(RegistryConfig.Api.APICURIO_V3,
                URI.create("https://r:8443/apis/registry/v3"), "svc-ingest:s3cr:et", null, Path.of("/etc/trust.p12"),
                "changeit", "PKCS12", false);
        Map<String, Object> c = new ApicurioRegistrySerdes(secured).serializerConfig();
        assertEquals("svc-ingest", c.get("apicurio.registry.auth.username"));
        assertEquals("s3cr:et", c.get("apicurio.registry.auth.password"), "only the first ':' separates user and password");
        assertEquals("/etc/trust.p12", c.get("apicurio.registry.tls.truststore.location"));
        assertEquals("PKCS12", c.get("apicurio.registry.tls.truststore.type"));
        assertEquals(false, c.get("apicurio.registry.auto-register"), "registry.auto.register=false");

        RegistryConfig bearer = new RegistryConfig(RegistryConfig.Api.APICURIO_V3, URI.create("http://r/apis/registry/v3"),
                null, "tok", null, null, "PKCS12", true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new ApicurioRegistrySerdes(bearer));
        assertTrue(e.getMessage().contains("registry.bearer.token is not supported"), e.getMessage());
        assertFalse(e.getMessage().contains("tok\""), e.getMessage());
    }
}
