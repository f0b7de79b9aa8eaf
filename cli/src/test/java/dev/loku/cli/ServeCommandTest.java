package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loku serve ingest}: help lists the configuration, and a bad configuration is a one-line user error. */
class ServeCommandTest {

    @Test
    void helpListsEveryConfigurationFieldWithItsEnvironmentVariable() {
        Output out = run("serve", "ingest", "--help");
        assertEquals(0, out.code);
        assertTrue(out.stdout.contains("ingest.batch.max.requests  (LOKU_INGEST_BATCH_MAX_REQUESTS, int, default 8)"), out.stdout);
        assertTrue(out.stdout.contains("bootstrap.servers  (LOKU_BOOTSTRAP_SERVERS, list, default localhost:9092)"), out.stdout);
    }

    @Test
    void configDocsPrintsMarkdown() {
        Output out = run("serve", "ingest", "--config-docs");
        assertEquals(0, out.code);
        assertTrue(out.stdout.contains("| `ingest.max.content.bytes` | `LOKU_INGEST_MAX_CONTENT_BYTES` | int | 262144 |"), out.stdout);
    }

    @Test
    void aBadConfigurationNamesEveryBadFieldWithoutAStackTrace(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("ingest.properties"),
                "ingest.batch.max.requests=zero\nartifacts.root=" + dir + "\n");
        Output out = run("serve", "ingest", "--config", file.toString());
        assertEquals(2, out.code, out.stderr);
        assertTrue(out.stderr.startsWith("loku: invalid configuration in " + file), out.stderr);
        assertTrue(out.stderr.contains("ingest.batch.max.requests = 'zero' (file " + file + "): not a whole number"), out.stderr);
        assertTrue(out.stderr.contains("models.catalogue is required (set it in the config file or as LOKU_MODELS_CATALOGUE)"),
                out.stderr);
        assertTrue(!out.stderr.contains("\tat "), "no stack trace: " + out.stderr);
    }

    @Test
    void aMissingCatalogueIsAUserError(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("ingest.properties"),
                "artifacts.root=" + dir.resolve("a") + "\nmodels.catalogue=" + dir.resolve("nope.json") + "\n");
        Output out = run("serve", "ingest", "--config", file.toString());
        assertEquals(2, out.code, out.stderr);
        assertTrue(out.stderr.contains("model catalogue " + dir.resolve("nope.json") + " does not exist"), out.stderr);
    }

    @Test
    void theJobServicesListTheirFieldsAndRefuseADeviceTheMachineLacks(@TempDir Path dir) throws Exception {
        Output help = run("serve", "worker", "--help");
        assertEquals(0, help.code);
        assertTrue(help.stdout.contains("worker.max.epochs.cap  (LOKU_WORKER_MAX_EPOCHS_CAP, int, default 100)"), help.stdout);
        assertTrue(run("serve", "eval", "--help").stdout.contains("eval.retain.tolerance  (LOKU_EVAL_RETAIN_TOLERANCE"));

        Path catalogue = dev.loku.runtime.testing.PipelineFixtures.create(dir, null, 2, "m").catalogueFile();
        Path file = Files.writeString(dir.resolve("fisher.properties"), "artifacts.root=" + dir.resolve("a")
                + "\nmodels.catalogue=" + catalogue + "\nfisher.device=gpu:42\n");
        Output out = run("serve", "fisher", "--config", file.toString());
        assertEquals(2, out.code, out.stderr);
        assertTrue(out.stderr.contains("'fisher' cannot start: device 'gpu:42' requested but DJL found"), out.stderr);

        Path bad = Files.writeString(dir.resolve("worker.properties"), "artifacts.root=" + dir.resolve("a")
                + "\nmodels.catalogue=" + catalogue + "\nworker.device=tpu\n");
        Output refused = run("serve", "worker", "--config", bad.toString());
        assertEquals(2, refused.code, refused.stderr);
        assertTrue(refused.stderr.contains("worker.device = 'tpu'"), refused.stderr);
    }

    @Test
    void statusRefusesABadIdAndSaysWhenTheClusterCannotBeRead() {
        Output bad = run("status", "Zelda");
        assertEquals(2, bad.code);
        assertTrue(bad.stderr.contains("'Zelda' is not a request id"), bad.stderr);
        Output down = run("status", java.util.UUID.randomUUID().toString(), "--bootstrap-servers", "127.0.0.1:1",
                "--timeout", "1s");
        assertEquals(2, down.code, down.stderr);
        assertTrue(down.stderr.contains("could not read loku.audit from 127.0.0.1:1 within 1s"), down.stderr);
    }

    private record Output(int code, String stdout, String stderr) {
    }

    private static Output run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = LokuCli.execute(args);
            return new Output(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
