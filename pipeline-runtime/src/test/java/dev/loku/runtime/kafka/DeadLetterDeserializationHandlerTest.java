package dev.loku.runtime.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.serde.RegistrySerdes;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class DeadLetterDeserializationHandlerTest {

    @Test
    void withoutARegistryUrlItRefusesToStartAndSaysWhatToAdd() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> new DeadLetterDeserializationHandler().configure(Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "ingest")));
        assertTrue(e.getMessage().contains("apicurio.registry.url"), e.getMessage());
        assertTrue(e.getMessage().contains("DeadLetterDeserializationHandler.streamsConfig(serdes)"), e.getMessage());
    }

    @Test
    void streamsConfigInstallsTheHandlerWithTheRegistry() {
        Map<String, Object> c = DeadLetterDeserializationHandler.streamsConfig(new RegistrySerdes("http://r/apis/registry/v3"));
        assertEquals(DeadLetterDeserializationHandler.class, c.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertEquals("http://r/apis/registry/v3", c.get("apicurio.registry.url"));
    }
}
