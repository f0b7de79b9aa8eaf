package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelLoader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The `loku lm` and `loku bench lm` contracts, run in-process with stdout and stderr captured. */
class LmCliTest {
    private static Path root;
    private static Path stories;
    private static JsonNode golden;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    record Run(int exitCode, String out, String err) {}

    @BeforeAll
    static void locate() throws Exception {
        String prop = System.getProperty("loku.project.root");
        root = prop != null ? Path.of(prop) : Path.of(System.getProperty("user.dir")).getParent();
        stories = root.resolve("models/stories260K");
        golden = JSON.readTree(stories.resolve("reference_outputs.json").toFile());
    }

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = LokuCli.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** stdout must be exactly one JSON object (and a line end). */
    static JsonNode onlyJson(Run r) throws Exception {
        assertEquals(0, r.exitCode(), r.err());
        String out = r.out().strip();
        assertTrue(out.startsWith("{") && out.endsWith("}"), "stdout: " + r.out());
        assertEquals(1, r.out().strip().lines().count(), "one line of output");
        JsonNode node = JSON.readTree(out);
        assertTrue(node.isObject());
        return node;
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    @Test
    void scoreJsonMatchesTheGoldenValues() throws Exception {
        JsonNode o = onlyJson(run("lm", "score", "--model", stories.toString(), "--text",
                golden.get("prompt").asText(), "--json"));
        assertEquals(3, o.size(), "exactly ids, mean_nll, last_logits: " + o.fieldNames());
        assertArrayEquals(ints(golden.get("prompt_ids_with_bos")), ints(o.get("ids")));
        JsonNode logits = o.get("last_logits");
        assertEquals(512, logits.size());
        for (int i = 0; i < 512; i++) {
            assertEquals(golden.get("last_position_logits").get(i).asDouble(), logits.get(i).asDouble(), 1e-3);
        }
        JsonNode ex = golden.get("nll_example");
        JsonNode nll = onlyJson(run("lm", "score", "--model", stories.toString(), "--text", ex.get("text").asText(),
                "--json"));
        assertArrayEquals(ints(ex.get("ids_with_bos")), ints(nll.get("ids")));
        assertEquals(ex.get("mean_nll_nats").asDouble(), nll.get("mean_nll").asDouble(), 1e-3);
    }

    @Test
    void generateJsonFromAnEmptyPromptIsTheGoldenContinuation() throws Exception {
        JsonNode o = onlyJson(run("lm", "generate", "--model", stories.toString(), "--prompt", "",
                "--max-new-tokens", "60", "--json"));
        assertEquals(2, o.size());
        assertArrayEquals(ints(golden.get("greedy_from_bos_ids")), ints(o.get("ids")));
        assertEquals(golden.get("greedy_from_bos_text").asText().strip(), o.get("text").asText());
    }

    @Test
    void generateJsonAgreesWithTheLibraryOnAnUnseenPrompt() throws Exception {
        String prompt = "Max the puppy found a shiny stone by the river, and";
        JsonNode o = onlyJson(run("lm", "generate", "--model", stories.resolve("stories260K.bin").toString(),
                "--prompt", prompt, "--max-new-tokens", "25", "--json"));
        try (CausalLm model = ModelLoader.load(stories, ai.djl.Device.cpu())) {
            int[] promptIds = model.tokenizer().encode(prompt, true);
            int[] generated = model.generateGreedy(promptIds, 25);
            int[] ids = ints(o.get("ids"));
            assertArrayEquals(promptIds, Arrays.copyOf(ids, promptIds.length));
            assertArrayEquals(generated, Arrays.copyOfRange(ids, promptIds.length, ids.length));
            assertEquals(model.tokenizer().decode(ids), prompt + o.get("text").asText());
        }
    }

    @Test
    void nonAsciiTextStaysExactThroughJson() throws Exception {
        String text = "Café ☕ and a 🦊 in the forest";
        JsonNode o = onlyJson(run("lm", "score", "--model", stories.toString(), "--text", text, "--json"));
        assertTrue(o.get("ids").size() > text.length() / 2, "byte fallback makes many ids");
        assertTrue(o.get("mean_nll").asDouble() > 0);
    }

    @Test
    void humanReadableOutputIsNotJson() {
        Run r = run("lm", "score", "--model", stories.toString(), "--text", "Once upon a time");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("mean NLL"), r.out());
        Run g = run("lm", "generate", "--model", stories.toString(), "--prompt", "Once upon a time",
                "--max-new-tokens", "5");
        assertEquals(0, g.exitCode(), g.err());
        assertEquals("Once upon a time, there was a little", g.out().strip());
    }

    @Test
    void aMissingModelIsOneLineOnStderrWithExitCode2() {
        Path missing = tmp.resolve("no-model-here");
        Run r = run("lm", "score", "--model", missing.toString(), "--text", "hi", "--json");
        assertEquals(2, r.exitCode());
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("loku: ") && r.err().contains(missing.toString()), r.err());
    }

    @Test
    void aBadTensorShapeNamesFileAndTensor() throws Exception {
        Path dir = tmp.resolve("hf");
        assertEquals(0, run("lm", "export", "--model", stories.toString(), "--out", dir.toString()).exitCode());
        // Claim a wider model than the weights hold.
        JsonNode cfg = JSON.readTree(dir.resolve("config.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) cfg).put("intermediate_size", 200);
        JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
        Run r = run("lm", "generate", "--model", dir.toString(), "--prompt", "x", "--json");
        assertEquals(2, r.exitCode());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("model.safetensors") && r.err().contains("model.layers.0.mlp.gate_proj.weight"),
                r.err());
    }

    @Test
    void exportedFolderScoresLikeTheOriginal() throws Exception {
        Path dir = tmp.resolve("exported");
        Run e = run("lm", "export", "--model", stories.toString(), "--out", dir.toString(), "--shard-size-mb", "0.3");
        assertEquals(0, e.exitCode(), e.err());
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors.index.json")));
        String text = "Ben and Mia built a sandcastle on the beach.";
        JsonNode a = onlyJson(run("lm", "score", "--model", stories.toString(), "--text", text, "--json"));
        JsonNode b = onlyJson(run("lm", "score", "--model", dir.toString(), "--text", text, "--json"));
        assertEquals(a.get("ids"), b.get("ids"));
        assertEquals(a.get("mean_nll").asDouble(), b.get("mean_nll").asDouble(), 1e-5);
    }

    @Test
    void benchPrintsATableForATinyModel() {
        Run r = run("bench", "lm", "--config", "tiny", "--batch", "1,2", "--seq", "8", "--iters", "1", "--warmup", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("fwd tok/s") && r.out().contains("LoRA tok/s") && r.out().contains("matmul"),
                r.out());
        assertEquals(2, r.out().lines().filter(l -> l.matches("\\s+\\d+\\s+8\\s+\\d+ \\|.*")).count(), r.out());
        Run neo = run("bench", "lm", "--config", "gpt-neo-125m", "--batch", "1", "--seq", "4", "--iters", "1",
                "--warmup", "0", "--no-backward");
        assertEquals(0, neo.exitCode(), neo.err());
        assertTrue(neo.out().contains("GPTNeoForCausalLM") && neo.out().contains("125.2M parameters"), neo.out());
        Run bad = run("bench", "lm", "--config", "gpt-5");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("unknown model preset"), bad.err());
    }
}
