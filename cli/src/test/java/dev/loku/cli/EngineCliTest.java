package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code loku data persons}, {@code finetune}, {@code unlearn} and {@code eval} in-process: argument errors are one
 * line without record text, and a small real run chains the four commands.
 */
class EngineCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path stories;

    @TempDir
    Path tmp;

    @BeforeAll
    static void locate() {
        String prop = System.getProperty("loku.project.root");
        Path root = prop != null ? Path.of(prop) : Path.of(System.getProperty("user.dir")).getParent();
        stories = root.resolve("models/stories260K");
    }

    /** Runs loku; engine commands get {@code --device cpu}, so no GPU probe writes warnings into captured output. */
    private static LmCliTest.Run run(String... args) {
        if (List.of("finetune", "unlearn", "eval").contains(args[0])) {
            String[] withDevice = java.util.Arrays.copyOf(args, args.length + 2);
            withDevice[args.length] = "--device";
            withDevice[args.length + 1] = "cpu";
            return LmCliTest.run(withDevice);
        }
        return LmCliTest.run(args);
    }

    /** A user error: exit 2 and exactly one line on stderr that contains {@code expected}. */
    private static void userError(LmCliTest.Run r, String expected) {
        assertEquals(2, r.exitCode(), "stdout: " + r.out() + " stderr: " + r.err());
        List<String> lines = r.err().strip().lines().toList();
        assertEquals(1, lines.size(), "one line: " + r.err());
        assertTrue(lines.get(0).startsWith("loku: ") && lines.get(0).contains(expected), r.err());
    }

    private Path persons(String name, long seed, int count) {
        Path file = tmp.resolve(name);
        LmCliTest.Run r = run("data", "persons", "--seed", Long.toString(seed), "--count", Integer.toString(count),
                "--out", file.toString());
        assertEquals(0, r.exitCode(), r.err());
        return file;
    }

    @Test
    void argumentErrorsAreOneLineAndNeverQuoteRecords() throws Exception {
        Path good = persons("good.jsonl", 1, 3);
        String model = stories.toString();
        Path missing = tmp.resolve("nope.jsonl");
        String out = tmp.resolve("out").toString();
        String report = tmp.resolve("report.json").toString();

        userError(run("unlearn", "--model", model, "--forget", missing.toString(), "--retain", good.toString(),
                "--unseen", good.toString(), "--method", "ihl", "--out", out, "--report", report),
                "--forget: no such file");
        userError(run("unlearn", "--model", model, "--forget", good.toString(), "--retain", good.toString(),
                "--unseen", good.toString(), "--method", "forgetful", "--out", out, "--report", report),
                "--method: unknown unlearning method 'forgetful'; use one of ihl, ga, gd, kl, npo");
        userError(run("unlearn", "--model", model, "--forget", good.toString(), "--retain", good.toString(),
                "--unseen", good.toString(), "--method", "ihl", "--lora-rank", "0", "--fila", "--out", out,
                "--report", report), "needs --lora-rank above 0");
        userError(run("unlearn", "--model", model, "--forget", good.toString(), "--retain", good.toString(),
                "--unseen", good.toString(), "--method", "ihl", "--dtype", "bf16", "--out", out, "--report", report),
                "bf16 is not available");
        userError(run("unlearn", "--model", model, "--forget", good.toString(), "--retain", good.toString(),
                "--unseen", good.toString(), "--method", "ihl", "--export-dtype", "int8", "--out", out, "--report",
                report), "--export-dtype: 'int8' is not an export type; use auto, fp32, fp16 or bf16");
        userError(run("unlearn", "--model", model, "--forget", good.toString(), "--retain", good.toString(),
                "--unseen", good.toString(), "--method", "ihl", "--epoch-evaluation", "sometimes", "--out", out,
                "--report", report), "use every-epoch or stop-rule");
        userError(run("unlearn", "--model", model, "--forget", good.toString(), "--retain", good.toString(),
                "--unseen", good.toString(), "--method", "ihl", "--micro-batch-weighting", "records", "--out", out,
                "--report", report), "--micro-batch-weighting: 'records' is not a micro-batch weighting; use equal"
                + " or tokens");
        userError(run("eval", "--model", tmp.resolve("no-model").toString(), "--forget", good.toString(),
                "--retain", good.toString(), "--unseen", good.toString()), "--model: no such file or folder");
        userError(run("finetune", "--model", model, "--data", good.toString(), "--epochs", "0", "--lr", "0.01",
                "--out", out), "epochs must be at least 1");

        // Bad JSONL: the message names the file and line, not the secret on it.
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"fine\"}\n{\"text\": \"Secret Person 555-0199\"\n");
        LmCliTest.Run r = run("eval", "--model", model, "--forget", bad.toString(), "--retain", good.toString(),
                "--unseen", good.toString(), "--json");
        userError(r, "bad.jsonl line 2");
        assertFalse(r.err().contains("Secret") || r.err().contains("555-0199"), r.err());
        Path wrongFields = tmp.resolve("fields.jsonl");
        Files.writeString(wrongFields, "{\"body\": \"Secret Person\"}\n");
        r = run("eval", "--model", model, "--forget", wrongFields.toString(), "--retain", good.toString(),
                "--unseen", good.toString());
        userError(r, "fields.jsonl line 1");
        assertFalse(r.err().contains("Secret"), r.err());
        assertFalse(Files.exists(Path.of(report)), "nothing written after an error");
    }

    @Test
    void progressIsPlainLinesOffATerminalAndABarOnOne() {
        java.io.ByteArrayOutputStream plain = new java.io.ByteArrayOutputStream();
        ProgressReporter p = new ProgressReporter(new java.io.PrintStream(plain, true,
                java.nio.charset.StandardCharsets.UTF_8), false, "unlearn", 4);
        p.step(1, "epoch 1/4");
        p.step(2, "epoch 2/4");
        p.finish();
        assertEquals("epoch 1/4\nepoch 2/4\n", plain.toString(java.nio.charset.StandardCharsets.UTF_8)
                .replace(System.lineSeparator(), "\n"));

        java.io.ByteArrayOutputStream tty = new java.io.ByteArrayOutputStream();
        ProgressReporter bar = new ProgressReporter(new java.io.PrintStream(tty, true,
                java.nio.charset.StandardCharsets.UTF_8), true, "unlearn", 4);
        bar.step(2, "epoch 2/4");
        bar.finish();
        String drawn = tty.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(drawn.contains("epoch 2/4") && drawn.contains("[" + "#".repeat(15) + ".".repeat(15) + "] 2/4"),
                drawn);
    }

    @Test
    void finetuneUnlearnEvalChain() throws Exception {
        Path train = persons("train.jsonl", 5, 8);
        List<String> lines = Files.readAllLines(train);
        assertEquals(8, lines.size());
        for (String line : lines) {
            JsonNode o = JSON.readTree(line);
            assertTrue(o.get("text").asText().contains("@example.org"), line);
            assertTrue(o.get("subject_id").asText().startsWith("person-"), line);
        }
        Path forget = tmp.resolve("forget.jsonl");
        Files.write(forget, lines.subList(0, 2));
        Path retain = tmp.resolve("retain.jsonl");
        Files.write(retain, lines.subList(2, 8));
        Path unseen = persons("unseen.jsonl", 6, 2);
        Path base = tmp.resolve("base");

        LmCliTest.Run ft = run("finetune", "--model", stories.toString(), "--data", train.toString(), "--epochs",
                "50", "--lr", "0.01", "--batch-size", "8", "--seed", "3", "--out", base.toString());
        assertEquals(0, ft.exitCode(), ft.err());
        assertTrue(ft.out().contains("train MA"), ft.out());
        assertEquals(50, ft.err().lines().filter(l -> l.startsWith("epoch ")).count(), "a line per epoch: " + ft.err());

        JsonNode before = onlyJson(run("eval", "--model", base.toString(), "--forget", forget.toString(),
                "--retain", retain.toString(), "--unseen", unseen.toString(), "--json"));
        assertEquals(Set.of("forget_ma", "forget_el10", "retain_ma", "retain_nll", "unseen_ma", "unseen_el10",
                "sets"), keys(before));
        assertEquals(Set.of("records", "ma", "el10", "nll", "perplexity", "em", "es"),
                keys(before.get("sets").get("forget")));
        assertEquals(2, before.get("sets").get("forget").get("records").asInt());
        assertTrue(before.get("forget_ma").asDouble() > before.get("unseen_ma").asDouble(), before.toString());

        Path out = tmp.resolve("unlearned");
        Path reportFile = tmp.resolve("reports").resolve("run.json");
        Path checkpoints = tmp.resolve("epoch-checkpoints");
        LmCliTest.Run ul = run("unlearn", "--model", base.toString(), "--forget", forget.toString(), "--retain",
                retain.toString(), "--unseen", unseen.toString(), "--method", "ihl", "--lora-rank", "4", "--fila",
                "--max-epochs", "2", "--lr", "0.01", "--seed", "9", "--checkpoint-dir", checkpoints.toString(),
                "--out", out.toString(), "--report", reportFile.toString());
        assertFalse(Files.exists(checkpoints), "the epoch checkpoints are deleted when the run ends");
        JsonNode report = JSON.readTree(Files.readString(reportFile));
        assertEquals(report.get("reached_threshold").asBoolean() ? 0 : UnlearnCommand.NOT_FORGOTTEN, ul.exitCode(),
                ul.err());
        assertEquals(Set.of("method", "hyperparameters", "seed", "base_model_sha256", "forget_sha256", "thresholds",
                "epochs", "stopped_at_epoch", "reached_threshold"), keys(report));
        assertEquals("ihl", report.get("method").asText());
        assertEquals(9, report.get("seed").asLong());
        assertEquals("equal", report.get("hyperparameters").get("micro_batch_weighting").asText(), "the default");
        assertEquals("float32", report.get("hyperparameters").get("export_dtype").asText(), "the checkpoint's type");
        JsonNode epochs = report.get("epochs");
        assertEquals(0, epochs.get(0).get("epoch").asInt(), "epoch 0 first");
        assertEquals(report.get("stopped_at_epoch").asInt(), epochs.get(epochs.size() - 1).get("epoch").asInt());
        assertEquals(Set.of("epoch", "loss", "forget_ma", "forget_el10", "retain_ma", "retain_nll", "seconds"),
                keys(epochs.get(0)));
        assertEquals(before.get("unseen_ma").asDouble(), report.get("thresholds").get("ma").asDouble(), 1e-12);
        assertEquals(before.get("unseen_el10").asDouble(), report.get("thresholds").get("el10").asDouble(), 1e-12);
        assertEquals(before.get("forget_ma").asDouble(), epochs.get(0).get("forget_ma").asDouble(), 1e-12);
        assertEquals(epochs.size(), ul.err().lines().filter(l -> l.startsWith("epoch ")).count(), ul.err());
        assertTrue(Files.isRegularFile(out.resolve("model").resolve("config.json")));
        assertTrue(Files.isRegularFile(out.resolve("adapter").resolve("adapter_config.json")));

        JsonNode after = onlyJson(run("eval", "--model", out.resolve("model").toString(), "--forget",
                forget.toString(), "--retain", retain.toString(), "--unseen", unseen.toString(), "--json"));
        JsonNode lastEpoch = epochs.get(epochs.size() - 1);
        assertEquals(lastEpoch.get("forget_ma").asDouble(), after.get("forget_ma").asDouble(), 0.02);
        assertTrue(after.get("forget_ma").asDouble() < before.get("forget_ma").asDouble(), after.toString());

        // A budget that cannot forget (one epoch at a negligible rate): the model and report are written, and the
        // exit code and stderr say it did not forget, so a script cannot take "still memorised" for success.
        Path stuck = tmp.resolve("stuck");
        Path stuckReport = tmp.resolve("stuck.json");
        LmCliTest.Run notForgotten = run("unlearn", "--model", base.toString(), "--forget", forget.toString(),
                "--retain", retain.toString(), "--unseen", unseen.toString(), "--method", "ihl", "--lora-rank", "4",
                "--fila", "--max-epochs", "1", "--lr", "1e-7", "--seed", "9", "--micro-batch-weighting", "tokens",
                "--export-dtype", "bf16", "--out", stuck.toString(), "--report", stuckReport.toString());
        assertEquals(UnlearnCommand.NOT_FORGOTTEN, notForgotten.exitCode(), notForgotten.err());
        JsonNode stuckJson = JSON.readTree(Files.readString(stuckReport));
        assertFalse(stuckJson.get("reached_threshold").asBoolean());
        assertEquals("tokens", stuckJson.get("hyperparameters").get("micro_batch_weighting").asText());
        assertEquals("bfloat16", stuckJson.get("hyperparameters").get("export_dtype").asText());
        assertEquals("bfloat16", JSON.readTree(stuck.resolve("model").resolve("config.json").toFile())
                .get("torch_dtype").asText());
        JsonNode stuckEval = onlyJson(run("eval", "--model", stuck.resolve("model").toString(), "--forget",
                forget.toString(), "--retain", retain.toString(), "--unseen", unseen.toString(), "--json"));
        assertEquals(stuckJson.get("epochs").get(1).get("forget_ma").asDouble(), stuckEval.get("forget_ma").asDouble(),
                0.05, "the bfloat16 export scores as the run's last epoch did, within bfloat16 rounding");
        assertTrue(notForgotten.out().contains("NOT forgotten within the epoch budget"), notForgotten.out());
        assertTrue(notForgotten.err().contains("did NOT forget within 1 epoch(s)"), notForgotten.err());
        assertTrue(Files.isRegularFile(stuck.resolve("model").resolve("config.json")), "the model is still written");

        LmCliTest.Run table = run("eval", "--model", base.toString(), "--forget", forget.toString(), "--retain",
                retain.toString(), "--unseen", unseen.toString());
        assertEquals(0, table.exitCode(), table.err());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("forget ")), table.out());
    }

    /**
     * stdout must hold exactly one JSON line. The test classpath's logback configuration
     * logs to stdout, unlike the CLI's own, which logs to stderr; DJL's GPU probe warnings are dropped here.
     */
    private static JsonNode onlyJson(LmCliTest.Run r) throws Exception {
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.out().lines().filter(l -> !l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*")).toList();
        assertEquals(1, lines.size(), "one line of output: " + r.out());
        JsonNode node = JSON.readTree(lines.get(0));
        assertTrue(node.isObject(), lines.get(0));
        return node;
    }

    private static Set<String> keys(JsonNode node) {
        Set<String> out = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }
}
