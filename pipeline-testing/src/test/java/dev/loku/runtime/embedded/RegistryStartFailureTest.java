package dev.loku.runtime.embedded;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A registry process that dies while starting is reported with the end of its log, which is kept. */
class RegistryStartFailureTest {

    @Test
    void aServerThatExitsAtStartIsReportedWithItsLog(@TempDir Path tmp) throws IOException {
        Path home = Files.createDirectories(tmp.resolve("broken-registry"));
        Files.writeString(home.resolve("quarkus-run.jar"), "not a jar");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");

        EmbeddedRegistry launched = EmbeddedRegistry.launch(home, java);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> EmbeddedRegistry.ready(launched, Duration.ofSeconds(30)));

        assertTrue(e.getMessage().startsWith("the schema registry exited with code "), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains("jarfile"), "the log tail says why: " + e.getMessage());
        assertTrue(Files.exists(launched.logFile()), "the log the message cites is kept");
        assertFalse(launched.process().isAlive());
        EmbeddedKafka.deleteRecursively(launched.logFile().getParent());
    }
}
