package dev.loku.runtime.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locating the unpacked registry distribution, and the message when it is not there. */
class RegistryHomeTest {

    @TempDir
    Path tmp;

    private Path distribution(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.createFile(dir.resolve("quarkus-run.jar"));
        return dir;
    }

    @Test
    void propertyThenEnvironmentThenProjectRoot() throws IOException {
        Path a = distribution(tmp.resolve("a"));
        Path b = distribution(tmp.resolve("b"));
        Path root = tmp.resolve("project");
        Path c = distribution(root.resolve(EmbeddedRegistry.RELATIVE_HOME));
        assertEquals(a, EmbeddedRegistry.locateHome(Map.of(EmbeddedRegistry.HOME_PROPERTY, a.toString())::get,
                Map.of(EmbeddedRegistry.HOME_ENV, b.toString())::get, tmp));
        assertEquals(b, EmbeddedRegistry.locateHome(Map.<String, String>of()::get,
                Map.of(EmbeddedRegistry.HOME_ENV, b.toString())::get, tmp));
        assertEquals(c, EmbeddedRegistry.locateHome(Map.of(EmbeddedRegistry.PROJECT_ROOT_PROPERTY, root.toString())::get,
                Map.<String, String>of()::get, tmp));
    }

    @Test
    void findsTheProjectRootAboveTheWorkingFolder() throws IOException {
        Path root = tmp.resolve("project");
        Files.createDirectories(root.resolve("pipeline-testing"));
        Files.createFile(root.resolve("pom.xml"));
        Path home = distribution(root.resolve(EmbeddedRegistry.RELATIVE_HOME));
        Path cwd = Files.createDirectories(root.resolve("cli/target"));
        assertEquals(home, EmbeddedRegistry.locateHome(Map.<String, String>of()::get, Map.<String, String>of()::get, cwd));
    }

    @Test
    void missingDistributionSaysHowToGetIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> EmbeddedRegistry.locateHome(
                Map.of(EmbeddedRegistry.HOME_PROPERTY, tmp.resolve("empty").toString())::get,
                Map.<String, String>of()::get, tmp));
        String m = e.getMessage();
        assertTrue(m.contains("was not found at " + tmp.resolve("empty")), m);
        assertTrue(m.contains("mvn -pl pipeline-testing -am process-resources"), m);
        assertTrue(m.contains("io.apicurio:apicurio-registry-app:3.3.3") && m.contains("LOKU_REGISTRY_HOME"), m);
    }
}
