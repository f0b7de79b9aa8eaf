package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.io.SafetensorsWriter;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.testing.RawSafetensors;
import dev.loku.core.testing.TestTexts;
import dev.loku.core.tokenizer.HfTokenizer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stories260K (llama2.c, interleaved rotary) exported as a Hugging Face folder (rotate_half, permuted q/k,
 * tokenizer.json) and loaded back through the HF path: same ids, same logits, same generations.
 */
class HfRoundTripTest {
    @TempDir
    static Path tmp;

    private static LlamaModel original;
    private static LlamaModel reloaded;
    private static Path exported;
    private static JsonNode golden;

    @BeforeAll
    static void exportAndReload() throws Exception {
        original = (LlamaModel) ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
        exported = tmp.resolve("stories260K-hf");
        HfExporter.export(original, exported);
        reloaded = (LlamaModel) ModelLoader.load(exported, Device.cpu());
        golden = new ObjectMapper().readTree(ProjectFiles.stories260K().resolve("reference_outputs.json").toFile());
    }

    @AfterAll
    static void close() {
        reloaded.close();
        original.close();
    }

    /** Texts neither the golden file nor the other tests use. */
    static List<String> unseenTexts() {
        List<String> texts = new ArrayList<>(TestTexts.prose().subList(0, 4));
        List<String> tofu = TestTexts.tofu();
        texts.add(tofu.get(tofu.size() - 3));
        texts.add(TestTexts.unicode().get(2));
        texts.add(TestTexts.shakespeare().get(77));
        return texts;
    }

    @Test
    void writesATransformersLlamaFolder() throws Exception {
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                "tokenizer_config.json", "special_tokens_map.json")) {
            assertTrue(Files.isRegularFile(exported.resolve(f)), f);
        }
        JsonNode c = new ObjectMapper().readTree(exported.resolve("config.json").toFile());
        assertEquals("LlamaForCausalLM", c.get("architectures").get(0).asText());
        assertEquals("llama", c.get("model_type").asText());
        assertTrue(c.get("tie_word_embeddings").asBoolean());
        assertEquals(10000.0, c.get("rope_theta").asDouble());
        assertEquals(1e-5, c.get("rms_norm_eps").asDouble());
        assertEquals(4, c.get("num_key_value_heads").asInt());
        assertEquals(172, c.get("intermediate_size").asInt());
        assertEquals(1, c.get("bos_token_id").asInt());
        assertEquals("[2,1]", c.get("eos_token_id").toString());
        try (SafetensorsFile st = SafetensorsFile.open(exported.resolve("model.safetensors"))) {
            assertEquals("pt", st.metadata().get("format"));
            assertFalse(st.contains("lm_head.weight"), "a tied head is stored once");
            assertEquals(original.parameterNames().size(), st.entries().size());
        }
        assertEquals(RotaryLayout.HALF, reloaded.config().rotaryLayout());
        assertInstanceOf(HfTokenizer.class, reloaded.tokenizer());
    }

    @Test
    void qAndKRowsArePermutedHeadByHeadAndTheRestIsUntouched() throws Exception {
        // Read back with DJL's own safetensors decoder, independent of ours.
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
             InputStream in = Files.newInputStream(exported.resolve("model.safetensors"))) {
            NDList decoded = NDList.decode(m, in);
            int hd = 8;
            for (String kind : List.of("q_proj", "k_proj")) {
                String name = "model.layers.3.self_attn." + kind + ".weight";
                float[] src = original.parameter(name).toFloatArray();
                float[] dst = decoded.get(name).toFloatArray();
                int rows = (int) original.parameter(name).getShape().get(0);
                int cols = 64;
                for (int h = 0; h < rows / hd; h++) {
                    for (int i = 0; i < hd / 2; i++) {
                        for (int part = 0; part < 2; part++) {
                            int from = h * hd + 2 * i + part;     // Meta: pairs (2i, 2i+1)
                            int to = h * hd + part * hd / 2 + i;  // HF: pairs (i, i + hd/2)
                            for (int col = 0; col < cols; col++) {
                                assertEquals(src[from * cols + col], dst[to * cols + col], 0f, name);
                            }
                        }
                    }
                }
            }
            for (String name : List.of("model.layers.3.self_attn.v_proj.weight", "model.embed_tokens.weight",
                    "model.layers.0.mlp.gate_proj.weight", "model.norm.weight")) {
                assertArrayEquals(original.parameter(name).toFloatArray(), decoded.get(name).toFloatArray(), name);
            }
        }
    }

    @Test
    void goldenValuesHoldForTheReloadedModel() {
        int[] ids = reloaded.tokenizer().encode(golden.get("prompt").asText(), true);
        assertArrayEquals(GoldenStories260KTest.ints(golden.get("prompt_ids_with_bos")), ids);
        float[] last = GoldenStories260KTest.lastLogits(reloaded, ids);
        JsonNode expected = golden.get("last_position_logits");
        for (int i = 0; i < last.length; i++) {
            assertEquals(expected.get(i).asDouble(), last[i], 1e-3, "logit " + i);
        }
        int[] greedy = GoldenStories260KTest.ints(golden.get("greedy_from_bos_ids"));
        int[] generated = reloaded.generateGreedy(new int[] {1}, greedy.length - 1);
        for (int i = 0; i < generated.length; i++) {
            assertEquals(greedy[i + 1], generated[i], "token " + i);
        }
    }

    @Test
    void unseenTextsGetTheSameIdsAndLogitsBothWays() {
        for (String text : unseenTexts()) {
            int[] ids = original.tokenizer().encode(text, true);
            assertArrayEquals(ids, reloaded.tokenizer().encode(text, true), text);
            assertEquals(text, reloaded.tokenizer().decode(ids));
            float[][] a = LlamaModelTest.rowLogits(original, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0),
                    0);
            float[][] b = LlamaModelTest.rowLogits(reloaded, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0),
                    0);
            for (int t = 0; t < a.length; t++) {
                for (int v = 0; v < a[t].length; v++) {
                    assertEquals(a[t][v], b[t][v], 1e-4, text + " @" + t + "," + v);
                }
            }
        }
        List<int[]> prompts = unseenTexts().stream().map(t -> original.tokenizer().encode(t, true)).toList();
        int[] budgets = {20, 7, 30, 3, 11, 16, 9};
        assertEquals(toLists(original.generateGreedy(prompts, budgets, true)),
                toLists(reloaded.generateGreedy(prompts, budgets, true)));
    }

    @Test
    void shardedExportWithAnIndexLoadsTheSame() throws Exception {
        Path sharded = tmp.resolve("sharded");
        HfExporter.export(original, sharded, 300_000);
        try (Stream<Path> files = Files.list(sharded)) {
            long shards = files.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors"))
                    .count();
            assertTrue(shards >= 3, "expected several shards, got " + shards);
        }
        assertFalse(Files.exists(sharded.resolve("model.safetensors")));
        try (LlamaModel m = (LlamaModel) ModelLoader.load(sharded, Device.cpu())) {
            assertSameLogits(reloaded, m);
        }
    }

    @Test
    void aHandWrittenTwoShardFolderLoads() throws Exception {
        Path dir = tmp.resolve("two-shards");
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(exported.resolve(f), dir.resolve(f));
        }
        ObjectNode index = new ObjectMapper().createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode map = index.putObject("weight_map");
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
             SafetensorsFile st = SafetensorsFile.open(exported.resolve("model.safetensors"))) {
            Map<String, NDArray> first = new LinkedHashMap<>();
            Map<String, NDArray> second = new LinkedHashMap<>();
            List<SafetensorsFile.Entry> entries = st.entries();
            for (int i = 0; i < entries.size(); i++) {
                String name = entries.get(i).name();
                boolean early = i % 2 == 0; // interleave, so every layer spans both files
                (early ? first : second).put(name, st.readFloat32(m, name));
                map.put(name, early ? "part-a.safetensors" : "part-b.safetensors");
            }
            SafetensorsWriter.write(dir.resolve("part-a.safetensors"), first, Map.of());
            SafetensorsWriter.write(dir.resolve("part-b.safetensors"), second, Map.of());
        }
        new ObjectMapper().writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        try (LlamaModel m = (LlamaModel) ModelLoader.load(dir, Device.cpu())) {
            assertSameLogits(reloaded, m);
        }
    }

    @Test
    void bfloat16WeightsLoadAsFloat32() throws Exception {
        Path dir = tmp.resolve("bf16");
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(exported.resolve(f), dir.resolve(f));
        }
        RawSafetensors raw = new RawSafetensors().meta("format", "pt");
        try (SafetensorsFile st = SafetensorsFile.open(exported.resolve("model.safetensors"))) {
            for (SafetensorsFile.Entry e : st.entries()) {
                raw.put(e.name(), "BF16", e.shape(), RawSafetensors.bf16(st.readFloats(e.name())));
            }
        }
        raw.write(dir.resolve("model.safetensors"));
        try (SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertEquals("BF16", st.entries().get(0).dtype());
        }
        try (LlamaModel m = (LlamaModel) ModelLoader.load(dir, Device.cpu())) {
            String name = "model.layers.1.mlp.up_proj.weight";
            float[] exact = reloaded.parameter(name).toFloatArray();
            float[] rounded = m.parameter(name).toFloatArray();
            for (int i = 0; i < exact.length; i++) {
                // bfloat16 keeps 8 significant bits.
                assertEquals(exact[i], rounded[i], Math.abs(exact[i]) / 128 + 1e-30);
            }
            int[] ids = m.tokenizer().encode("Once upon a time", true);
            float[] last = GoldenStories260KTest.lastLogits(m, ids);
            int best = 0;
            for (int i = 1; i < last.length; i++) {
                best = last[i] > last[best] ? i : best;
            }
            assertEquals(432, best, "the top token (',') survives bf16 rounding");
        }
    }

    @Test
    void anUntiedGqaModelInTheHalfLayoutRoundTripsWithItsHead() throws Exception {
        // Not llama2.c: separate lm_head, 8 query heads on 2 KV heads, theta 500000, eps 1e-6, no permutation.
        LlamaConfig cfg = new LlamaConfig(48, 80, 2, 8, 2, 6, 512, 256, 1e-6, 500000.0, null, false,
                RotaryLayout.HALF, 1, List.of(2), -1);
        Path dir = tmp.resolve("untied");
        try (LlamaModel model = LlamaModelTest.randomModel(cfg, 77)) {
            LlamaModel withTokenizer = LlamaModel.of(cfg, original.tokenizer(), copy(model), model.manager()
                    .newSubManager());
            HfExporter.export(withTokenizer, dir);
            try (SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                assertTrue(st.contains("lm_head.weight"));
            }
            try (LlamaModel back = (LlamaModel) ModelLoader.load(dir, Device.cpu())) {
                assertFalse(back.config().tieWordEmbeddings());
                assertEquals(500000.0, back.config().ropeTheta());
                assertEquals(1e-6, back.config().rmsNormEps());
                for (String name : model.parameterNames()) {
                    assertTrue(model.parameter(name).contentEquals(back.parameter(name)), name);
                }
                assertSameLogits(back, model);
            }
        }
    }

    private static Map<String, NDArray> copy(CausalLm model) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        model.parameters().forEach((k, v) -> out.put(k, v.duplicate()));
        return out;
    }

    private static void assertSameLogits(CausalLm expected, CausalLm actual) {
        for (String text : unseenTexts().subList(0, 3)) {
            int[] ids = expected.tokenizer().encode(text, true);
            TokenBatch batch = TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0);
            float[][] a = LlamaModelTest.rowLogits(expected, batch, 0);
            float[][] b = LlamaModelTest.rowLogits(actual, batch, 0);
            for (int t = 0; t < a.length; t++) {
                assertArrayEquals(a[t], b[t], 0f);
            }
        }
    }

    private static List<List<Integer>> toLists(List<int[]> arrays) {
        List<List<Integer>> out = new ArrayList<>();
        for (int[] a : arrays) {
            List<Integer> l = new ArrayList<>();
            for (int v : a) {
                l.add(v);
            }
            out.add(l);
        }
        return out;
    }
}
