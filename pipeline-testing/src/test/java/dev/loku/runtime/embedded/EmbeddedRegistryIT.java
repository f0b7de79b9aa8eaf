package dev.loku.runtime.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.serde.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A registry of its own (not the shared stack's): it starts, logs to its file, and leaves nothing behind. */
class EmbeddedRegistryIT {

    @Test
    void startsOnLoopbackWithTheRuleSetAndStopsItsProcessOnClose() throws Exception {
        ProcessHandle process;
        Path log;
        try (EmbeddedRegistry registry = EmbeddedRegistry.start()) {
            process = registry.process();
            log = registry.logFile();
            assertTrue(process.isAlive());
            assertTrue(registry.registryUrl().startsWith("http://127.0.0.1:"), registry.registryUrl());
            assertEquals("FULL_TRANSITIVE", new SchemaRegistryClient(registry.ccompatUrl()).globalCompatibility());
            String output = Files.readString(log);
            assertTrue(output.contains("Apicurio Registry") || output.contains("apicurio-registry"),
                    "the server's output goes to its log file");
        }
        assertFalse(process.isAlive(), "the registry process is stopped on close");
        assertFalse(Files.exists(log), "its temporary log folder is removed on a clean close");
    }
}
