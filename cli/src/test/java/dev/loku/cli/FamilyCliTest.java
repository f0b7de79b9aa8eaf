package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.io.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code loku lm score|generate|export}, {@code unlearn} and {@code eval} on a checkpoint of every model family: the
 * transformers-made fixtures under {@code models/fixtures/<family>/}, whose golden values (logits, NLL, greedy
 * tokens) come from transformers itself.
 */
class FamilyCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static Path root() {
        String prop = System.getProperty("loku.project.root");
        return prop != null ? Path.of(prop) : Path.of(System.getProperty("user.dir")).getParent();
    }

    static Stream<String> families() throws Exception {
        List<String> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root().resolve("models").resolve("fixtures"))) {
            dirs.filter(d -> Files.isRegularFile(d.resolve("golden.json"))).sorted()
                    .forEach(d -> out.add(d.getFileName().toString()));
        }
        assertTrue(out.size() >= 5, "fixtures: " + out);
        return out.stream();
    }

    private static Path fixture(String family) {
        return root().resolve("models").resolve("fixtures").resolve(family);
    }

    private static JsonNode golden(String family) throws Exception {
        return JSON.readTree(fixture(family).resolve("golden.json").toFile());
    }

    private static LmCliTest.Run engine(String... args) {
        String[] withDevice = Arrays.copyOf(args, args.length + 2);
        withDevice[args.length] = "--device";
        withDevice[args.length + 1] = "cpu";
        return LmCliTest.run(withDevice);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void scoreGenerateAndExportAgreeWithTransformers(String family) throws Exception {
        JsonNode golden = golden(family);
        Path model = fixture(family).resolve("model");
        JsonNode prompt = golden.get("prompts").get(0);
        float[] last;
        try (SafetensorsFile f = SafetensorsFile.open(fixture(family).resolve("golden.safetensors"))) {
            float[] all = f.readFloats("logits.0");
            int v = (int) f.entry("logits.0").shape()[1];
            last = Arrays.copyOfRange(all, all.length - v, all.length);
        }

        JsonNode score = LmCliTest.onlyJson(LmCliTest.run("lm", "score", "--model", model.toString(), "--text",
                prompt.get("text").asText(), "--json"));
        assertArrayEquals(LmCliTest.ints(prompt.get("ids")), LmCliTest.ints(score.get("ids")));
        assertEquals(golden.get("nll").get(0).asDouble(), score.get("mean_nll").asDouble(), 1e-4);
        assertEquals(last.length, score.get("last_logits").size());
        for (int i = 0; i < last.length; i++) {
            assertEquals(last[i], score.get("last_logits").get(i).asDouble(), 1e-4, "logit " + i);
        }

        JsonNode run = golden.get("greedy").get(0);
        int[] expected = LmCliTest.ints(run.get("new_tokens"));
        JsonNode gen = LmCliTest.onlyJson(LmCliTest.run("lm", "generate", "--model", model.toString(), "--prompt",
                golden.get("prompts").get(run.get("prompt").asInt()).get("text").asText(), "--max-new-tokens",
                Integer.toString(expected.length), "--json"));
        int[] ids = LmCliTest.ints(gen.get("ids"));
        int promptLength = golden.get("prompts").get(run.get("prompt").asInt()).get("ids").size();
        int[] generated = Arrays.copyOfRange(ids, promptLength, ids.length);
        // generate stops after an EOS; up to there the tokens are transformers' greedy ones.
        assertArrayEquals(Arrays.copyOf(expected, generated.length), generated);

        Path exported = tmp.resolve("exported");
        LmCliTest.Run export = LmCliTest.run("lm", "export", "--model", model.toString(), "--out",
                exported.toString(), "--shard-size-mb", "0.05");
        assertEquals(0, export.exitCode(), export.err());
        assertEquals(golden.get("architecture").asText(),
                JSON.readTree(exported.resolve("config.json").toFile()).get("architectures").get(0).asText());
        JsonNode again = LmCliTest.onlyJson(LmCliTest.run("lm", "score", "--model", exported.toString(), "--text",
                prompt.get("text").asText(), "--json"));
        assertEquals(score.get("last_logits"), again.get("last_logits"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void unlearnAndEvalRunOnEveryFamily(String family) throws Exception {
        Path model = fixture(family).resolve("model");
        Path forget = write("forget.jsonl", "Maria Keller was born on 3 May 1984 in Graz.",
                "Her phone number is 0316 555 0192.");
        Path retain = write("retain.jsonl", "Once upon a time there was a little fox.",
                "Every morning the fox walked to the river.", "The quick brown fox jumps over the lazy dog.");
        Path unseen = write("unseen.jsonl", "One day a girl came to the river with a red ball.",
                "They played until the sun went down.");
        Path out = tmp.resolve("unlearned");
        Path report = tmp.resolve("report.json");
        LmCliTest.Run ul = engine("unlearn", "--model", model.toString(), "--forget", forget.toString(), "--retain",
                retain.toString(), "--unseen", unseen.toString(), "--method", "ihl", "--lora-rank", "2", "--fila",
                "--max-epochs", "1", "--lr", "0.01", "--seed", "4", "--out", out.toString(), "--report",
                report.toString(), "--base-name", "example-org/" + family);
        assertEquals(JSON.readTree(report.toFile()).get("reached_threshold").asBoolean() ? 0
                : UnlearnCommand.NOT_FORGOTTEN, ul.exitCode(), ul.err());
        assertEquals("ihl", JSON.readTree(report.toFile()).get("method").asText());
        assertEquals(golden(family).get("architecture").asText(), JSON.readTree(out.resolve("model")
                .resolve("config.json").toFile()).get("architectures").get(0).asText());
        // The adapter names the family's own projections (every one: LoKU's default targets).
        TreeSet<String> targets = new TreeSet<>();
        JSON.readTree(out.resolve("adapter").resolve("adapter_config.json").toFile()).get("target_modules")
                .forEach(t -> targets.add(t.asText()));
        TreeSet<String> expected = new TreeSet<>();
        golden(family).get("lora").get("targets").forEach(t -> expected.add(t.asText()));
        assertEquals(expected, targets);
        assertTrue(Files.isRegularFile(out.resolve("residual-base").resolve("model.safetensors")));
        // FILA's result also as an adapter on the original model (docs/method.md §8.6), named as --base-name says.
        JsonNode portable = JSON.readTree(out.resolve("adapter-portable").resolve("adapter_config.json").toFile());
        assertEquals("example-org/" + family, portable.get("base_model_name_or_path").asText());
        assertEquals(4, portable.get("r").asInt(), "rank 2r");
        assertTrue(ul.out().contains("adapter on the original model: " + out.resolve("adapter-portable")), ul.out());

        LmCliTest.Run eval = engine("eval", "--model", out.resolve("model").toString(), "--forget",
                forget.toString(), "--retain", retain.toString(), "--unseen", unseen.toString(), "--json");
        assertEquals(0, eval.exitCode(), eval.err());
        JsonNode scores = JSON.readTree(eval.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
        assertTrue(scores.get("forget_ma").isNumber() && scores.get("retain_nll").isNumber(), scores.toString());
    }

    /**
     * {@code --checkpoint-activations} changes memory, not results: the same run with it reports the same losses
     * and metrics epoch by epoch (the layer-by-layer backward gives the ordinary gradients).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void checkpointedUnlearningReportsWhatTheOrdinaryRunReports(String family) throws Exception {
        Path model = fixture(family).resolve("model");
        Path forget = write("forget.jsonl", "Maria Keller was born on 3 May 1984 in Graz.",
                "Her phone number is 0316 555 0192.");
        Path retain = write("retain.jsonl", "Once upon a time there was a little fox.",
                "Every morning the fox walked to the river.");
        Path unseen = write("unseen.jsonl", "One day a girl came to the river with a red ball.");
        List<JsonNode> epochs = new ArrayList<>();
        for (boolean checkpointed : new boolean[] {false, true}) {
            Path report = tmp.resolve("report-" + checkpointed + ".json");
            List<String> args = new ArrayList<>(List.of("unlearn", "--model", model.toString(), "--forget",
                    forget.toString(), "--retain", retain.toString(), "--unseen", unseen.toString(), "--method", "ihl",
                    "--lora-rank", "2", "--max-epochs", "2", "--lr", "0.01", "--seed", "4", "--out",
                    tmp.resolve("out-" + checkpointed).toString(), "--report", report.toString()));
            if (checkpointed) {
                args.add("--checkpoint-activations");
            }
            LmCliTest.Run run = engine(args.toArray(String[]::new));
            assertTrue(run.exitCode() == 0 || run.exitCode() == UnlearnCommand.NOT_FORGOTTEN, run.err());
            epochs.add(JSON.readTree(report.toFile()).get("epochs"));
        }
        assertEquals(epochs.get(0).size(), epochs.get(1).size());
        for (int e = 0; e < epochs.get(0).size(); e++) {
            for (String field : List.of("loss", "forget_ma", "forget_el10", "retain_ma", "retain_nll")) {
                double plain = epochs.get(0).get(e).get(field).asDouble();
                double checkpointed = epochs.get(1).get(e).get(field).asDouble();
                assertEquals(plain, checkpointed, 1e-6 * Math.max(1, Math.abs(plain)),
                        family + " epoch " + e + " " + field);
            }
        }
    }

    private Path write(String name, String... texts) throws Exception {
        List<String> lines = new ArrayList<>();
        for (String t : texts) {
            lines.add(JSON.writeValueAsString(JSON.createObjectNode().put("text", t)));
        }
        return Files.write(tmp.resolve(name), lines);
    }
}
