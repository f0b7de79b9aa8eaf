package dev.loku.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.deploy.CodeFacts.ServiceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each service's runnable jar as the build packaged it and the images copy it: its manifest names the service's
 * main class and only jars that are there, the in-process test broker stays out (and the engine's libtorch out of
 * ingest), and {@code java -jar} starts, answers {@code --help}, and turns a bad configuration into a message and
 * exit code 2 without a stack trace.
 */
class ServiceJarsIT {

    static Stream<ServiceSpec> services() {
        return CodeFacts.fromCode().services().stream();
    }

    /** Jars of the in-process broker and the tests: never needed by a deployed service. */
    private static final List<String> TEST_ONLY = List.of("kafka-test-common-runtime-", "kafka_2.13-", "kafka-server-",
            "kafka-raft-", "scala-library-", "junit-", "pipeline-runtime-0.1.0-SNAPSHOT-tests");
    /** The engine and its native libraries, which only the engine services need. */
    private static final List<String> ENGINE = List.of("unlearning-core-", "pytorch-engine-", "pytorch-jni-",
            "pytorch-native-cpu-", "tokenizers-");

    private static void assertNoStackTrace(String err) {
        assertFalse(err.contains("\tat ") || err.contains("Exception in thread"), () -> "stack trace on stderr:\n" + err);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("services")
    void theManifestNamesTheMainClassAndOnlyJarsThatAreThere(ServiceSpec s) throws Exception {
        ServiceJar jar = ServiceJar.of(s);
        try (JarFile file = new JarFile(jar.jar().toFile())) {
            Attributes main = file.getManifest().getMainAttributes();
            assertEquals(s.mainClass(), main.getValue(Attributes.Name.MAIN_CLASS));
            assertNotNull(file.getEntry(s.mainClass().replace('.', '/') + ".class"), "main class inside the jar");

            List<String> classPath = List.of(main.getValue(Attributes.Name.CLASS_PATH).split("\\s+"));
            Path dir = jar.jar().getParent();
            List<String> missing = classPath.stream().filter(e -> !Files.isRegularFile(dir.resolve(e))).toList();
            assertEquals(List.of(), missing, "Class-Path entries missing next to " + jar.jar().getFileName());
            assertTrue(classPath.stream().allMatch(e -> e.startsWith("lib/")), classPath::toString);

            List<String> names = classPath.stream().map(e -> e.substring("lib/".length())).toList();
            assertEquals(List.of(), names.stream().filter(n -> TEST_ONLY.stream().anyMatch(n::startsWith)).toList(),
                    "test-only jars on the class path");
            List<String> engine = names.stream().filter(n -> ENGINE.stream().anyMatch(n::startsWith)).toList();
            if (s.modelFiles()) {
                assertEquals(ENGINE.size(), engine.size(), () -> "engine jars on the class path: " + engine);
            } else {
                assertEquals(List.of(), engine, "the ingest image carries no engine and no libtorch");
            }
            assertTrue(names.stream().anyMatch(n -> n.startsWith("logback-classic-")), "a logging backend");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("services")
    void helpListsTheConfigurationAndExitsZero(ServiceSpec s, @TempDir Path dir) {
        ServiceJar.Run run = ServiceJar.of(s).run(dir, Map.of(), 60, "--help");

        assertEquals(0, run.exit(), run::err);
        assertTrue(run.out().startsWith("Usage: java -jar " + s.module() + ".jar [--config FILE]"), run::out);
        s.groups().forEach(g -> g.fields().forEach(f ->
                assertTrue(run.out().contains(f.envVar()), () -> f.envVar() + " missing from --help")));
        assertEquals(List.of(), run.errLines());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("services")
    void aMissingConfigFileIsAMessageAndExitTwo(ServiceSpec s, @TempDir Path dir) {
        Path missing = dir.resolve("missing.properties");

        ServiceJar.Run run = ServiceJar.of(s).run(dir, Map.of(), 60, "--config", missing.toString());

        assertEquals(2, run.exit(), run::err);
        assertEquals(List.of("loku-" + s.name() + ": cannot read config file " + missing + ":",
                "  no such file; pass an existing properties file with --config"), run.errLines());
    }

    @Test
    void aMissingCatalogueStopsIngestWithOneLine(@TempDir Path dir) {
        ServiceSpec ingest = services().filter(s -> s.name().equals("ingest")).findFirst().orElseThrow();
        Path catalogue = dir.resolve("nowhere/catalogue.json");

        ServiceJar.Run run = ServiceJar.of(ingest).run(dir, Map.of(
                "LOKU_ARTIFACTS_ROOT", dir.resolve("artifacts").toString(),
                "LOKU_MODELS_CATALOGUE", catalogue.toString()), 60);

        assertEquals(2, run.exit(), run::err);
        assertEquals(List.of("loku-ingest: model catalogue " + catalogue + " does not exist; set models.catalogue to "
                + "the catalogue's JSON file"), run.errLines());
        assertNoStackTrace(run.err());
    }

    @Test
    void invalidValuesAreListedFieldByField(@TempDir Path dir) {
        ServiceSpec worker = services().filter(s -> s.name().equals("worker")).findFirst().orElseThrow();

        ServiceJar.Run run = ServiceJar.of(worker).run(dir, Map.of(
                "LOKU_ARTIFACTS_ROOT", dir.resolve("artifacts").toString(),
                "LOKU_MODELS_CATALOGUE", dir.resolve("catalogue.json").toString(),
                "LOKU_WORKER_MAX_EPOCHS_CAP", "0",
                "LOKU_WORKER_DEVICE", "tpu"), 60);

        assertEquals(2, run.exit(), run::err);
        List<String> lines = run.errLines();
        assertEquals("loku-worker: invalid configuration:", lines.get(0));
        assertEquals(3, lines.size(), run::err);
        assertTrue(lines.get(1).startsWith("  worker.device = 'tpu' (environment LOKU_WORKER_DEVICE)"), run::err);
        assertTrue(lines.get(2).startsWith("  worker.max.epochs.cap = '0' (environment LOKU_WORKER_MAX_EPOCHS_CAP)"),
                run::err);
        assertNoStackTrace(run.err());
    }
}
