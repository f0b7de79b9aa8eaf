package dev.loku.runtime.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The serde settings that make the bytes Confluent's wire format and the subjects Confluent's names. */
class RegistrySerdesTest {

    private final RegistrySerdes serdes = new RegistrySerdes("http://localhost:1/apis/registry/v3",
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
}
