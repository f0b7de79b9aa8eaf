package dev.loku.runtime.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.config.RegistryConfig;
import dev.loku.runtime.serde.RegistrySerdes;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class DeadLetterDeserializationHandlerTest {

    @Test
    void withoutTheSerdesItRefusesToStartAndSaysWhatToAdd() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> new DeadLetterDeserializationHandler().configure(Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "ingest")));
        assertTrue(e.getMessage().contains(DeadLetterDeserializationHandler.SERDES_CONFIG), e.getMessage());
        assertTrue(e.getMessage().contains("DeadLetterDeserializationHandler.streamsConfig(serdes)"), e.getMessage());
    }

    @Test
    void streamsConfigInstallsTheHandlerWithTheRegistry() {
        RegistrySerdes serdes = RegistrySerdes.forConfig(RegistryConfig.of(RegistryConfig.Api.CONFLUENT, "http://r:8081"));
        Map<String, Object> c = DeadLetterDeserializationHandler.streamsConfig(serdes);
        assertEquals(DeadLetterDeserializationHandler.class, c.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertSame(serdes, c.get(DeadLetterDeserializationHandler.SERDES_CONFIG),
                "the handler writes dead letters with the app's own serdes: same registry, API and credentials");
    }
}
