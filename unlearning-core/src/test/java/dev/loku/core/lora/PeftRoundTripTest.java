package dev.loku.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.fisher.FisherPass;
import dev.loku.core.io.FileFormatException;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.LlamaConfig;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A FILA adapter on stories260K (llama2.c, interleaved rotary), "trained" by perturbing its factors, written as a
 * PEFT folder next to the residual base and the merged model; everything read back reproduces the adapted logits.
 */
@SuppressWarnings("try")
class PeftRoundTripTest {
    @TempDir
    static Path tmp;

    private static CausalLm model;
    private static LoraModel lora;
    private static TokenBatch batch;
    private static float[] adapted;
    private static Path adapterDir;
    private static Path baseDir;
    private static Path mergedDir;
    private static Path portableDir;

    @BeforeAll
    static void trainAndSave() throws Exception {
        model = Stories.model();
        batch = Stories.batch(model, Stories.examples(model, 0, 6));
        try (FisherImportance importance = FisherPass.run(model, Stories.examples(model, 0, 4),
                Stories.examples(model, 10, 14), null, 2, Map.of())) {
            lora = LoraModel.attachFila(model, LoraConfig.defaults(4), importance, 42);
        }
        float[] stepZero = Stories.logits(model, batch);
        perturbB(lora, 0.02f, 17); // stands in for training: B no longer FILA's B₀
        adapted = Stories.logits(model, batch);
        assertTrue(Stories.maxAbsDiff(stepZero, adapted) > 0.05, "the perturbation should change the logits");
        adapterDir = tmp.resolve("adapter");
        baseDir = tmp.resolve("base");
        mergedDir = tmp.resolve("merged");
        lora.savePeft(adapterDir, "stories260K-fila-residual");
        lora.exportBase(baseDir);
        lora.exportMerged(mergedDir);
        portableDir = tmp.resolve("adapter-portable");
        lora.savePortablePeft(portableDir, "stories260K");
    }

    @AfterAll
    static void close() {
        lora.close();
        model.close();
    }

    @Test
    void filesFollowPeftConventions() throws Exception {
        TreeSet<String> expected = new TreeSet<>();
        for (int layer = 0; layer < model.config().numLayers(); layer++) {
            for (String m : new String[] {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
                expected.add("base_model.model.model.layers." + layer + "." + m + ".lora_A.weight");
                expected.add("base_model.model.model.layers." + layer + "." + m + ".lora_B.weight");
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(adapterDir.resolve("adapter_model.safetensors"))) {
            TreeSet<String> keys = new TreeSet<>();
            f.entries().forEach(e -> keys.add(e.name()));
            assertEquals(expected, keys);
            assertEquals("pt", f.metadata().get("format"));
            f.entries().forEach(e -> assertEquals("F32", e.dtype(), e.name()));
            int dim = model.config().hiddenSize();
            LlamaConfig llama = (LlamaConfig) model.config();
            assertTrue(Arrays.equals(new long[] {4, dim},
                    f.entry("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape()));
            assertTrue(Arrays.equals(new long[] {dim, 4},
                    f.entry("base_model.model.model.layers.0.self_attn.o_proj.lora_B.weight").shape()));
            assertTrue(Arrays.equals(new long[] {llama.intermediateSize(), 4},
                    f.entry("base_model.model.model.layers.2.mlp.up_proj.lora_B.weight").shape()));
        }
        JsonNode c = new ObjectMapper().readTree(adapterDir.resolve("adapter_config.json").toFile());
        assertEquals("LORA", c.get("peft_type").asText());
        assertEquals(4, c.get("r").asInt());
        assertTrue(c.get("r").isInt());
        assertEquals(8, c.get("lora_alpha").asInt());
        assertTrue(c.get("lora_alpha").isInt());
        assertEquals(0.0, c.get("lora_dropout").asDouble());
        assertEquals("CAUSAL_LM", c.get("task_type").asText());
        assertEquals("none", c.get("bias").asText());
        assertEquals("stories260K-fila-residual", c.get("base_model_name_or_path").asText());
        assertFalse(c.get("use_rslora").asBoolean());
        assertFalse(c.get("use_dora").asBoolean());
        assertFalse(c.get("fan_in_fan_out").asBoolean());
        TreeSet<String> targets = new TreeSet<>();
        c.get("target_modules").forEach(t -> targets.add(t.asText()));
        assertEquals(new TreeSet<>(model.family().projectionKinds()), targets);
    }

    @Test
    void portableAdapterOnTheOriginalBaseReproducesTheLogits() throws Exception {
        // docs/method.md §8.6: rank 2r, lora_A = [A; A₀], lora_B = [B, −B₀], alpha 2α so that alpha / r is still s.
        JsonNode c = new ObjectMapper().readTree(portableDir.resolve("adapter_config.json").toFile());
        assertEquals(8, c.get("r").asInt());
        assertEquals(16, c.get("lora_alpha").asInt());
        assertEquals("stories260K", c.get("base_model_name_or_path").asText());
        try (SafetensorsFile f = SafetensorsFile.open(portableDir.resolve("adapter_model.safetensors"))) {
            assertTrue(Arrays.equals(new long[] {8, model.config().hiddenSize()},
                    f.entry("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape()));
        }
        try (CausalLm original = Stories.model()) {
            float[] before = Stories.logits(original, batch);
            assertTrue(Stories.maxAbsDiff(adapted, before) > 0.05, "the original base alone computes otherwise");
            try (LoraModel residualAdapter = LoraModel.loadPeft(original, adapterDir)) {
                double off = Stories.maxAbsDiff(adapted, Stories.logits(original, batch));
                assertTrue(off > 0.05, "the residual base's adapter on the original base differs by only " + off);
            }
            try (LoraModel back = LoraModel.loadPeft(original, portableDir)) {
                assertEquals(8, back.config().rank());
                double d = Stories.maxAbsDiff(adapted, Stories.logits(original, batch));
                assertTrue(d <= 1e-4, "the portable adapter on the original base differs by " + d);
            }
        }
    }

    @Test
    void adapterOnTheExportedResidualBaseReproducesTheLogits() throws Exception {
        try (CausalLm base = ModelLoader.load(baseDir, Device.cpu());
                LoraModel back = LoraModel.loadPeft(base, adapterDir)) {
            // The file names the kinds the adapters sit on, not the shorthand they were chosen with.
            assertEquals(new LoraConfig(4, 8, 0, base.family().projectionKinds()), back.config());
            double d = Stories.maxAbsDiff(adapted, Stories.logits(base, batch));
            assertTrue(d <= 1e-4, "PEFT on the HF residual base differs by " + d);
            assertEquals(lora.trainableParameters().keySet(), back.trainableParameters().keySet());
        }
    }

    @Test
    void adapterOnTheInMemoryInterleavedBaseReproducesTheLogits() throws Exception {
        // The llama2.c model keeps the interleaved q/k order: loading permutes the q/k B rows back.
        try (CausalLm again = model.copy(); LoraModel back = LoraModel.loadPeft(again, adapterDir)) {
            double d = Stories.maxAbsDiff(adapted, Stories.logits(again, batch));
            assertTrue(d <= 1e-5, "PEFT on the in-memory residual base differs by " + d);
        }
    }

    @Test
    void mergedFolderReproducesTheLogitsAndExportLeavesTheModelAlone() {
        try (CausalLm merged = ModelLoader.load(mergedDir, Device.cpu())) {
            double d = Stories.maxAbsDiff(adapted, Stories.logits(merged, batch));
            assertTrue(d <= 1e-4, "merged folder differs by " + d);
        }
        assertEquals(0.0, Stories.maxAbsDiff(adapted, Stories.logits(model, batch)));
        assertFalse(lora.isMerged());
    }

    @Test
    void corruptOrForeignAdaptersAreRefusedWithTheFileNamed() throws Exception {
        try (CausalLm base = ModelLoader.load(baseDir, Device.cpu())) {
            Path truncated = copyAdapter("truncated");
            Path weights = truncated.resolve("adapter_model.safetensors");
            byte[] bytes = Files.readAllBytes(weights);
            Files.write(weights, Arrays.copyOf(bytes, bytes.length / 2));
            FileFormatException e = assertThrows(FileFormatException.class, () -> LoraModel.loadPeft(base, truncated));
            assertTrue(e.getMessage().startsWith(weights.toString()), e.getMessage());

            Path wrongRank = copyAdapter("rank");
            editConfig(wrongRank, c -> c.put("r", 8));
            e = assertThrows(FileFormatException.class, () -> LoraModel.loadPeft(base, wrongRank));
            assertTrue(e.getMessage().contains("expected [8,") || e.getMessage().contains("expected ["),
                    e.getMessage());

            Path fewerTargets = copyAdapter("targets");
            editConfig(fewerTargets, c -> c.putArray("target_modules").add("q_proj"));
            e = assertThrows(FileFormatException.class, () -> LoraModel.loadPeft(base, fewerTargets));
            assertTrue(e.getMessage().contains("k_proj"), e.getMessage());

            Path dora = copyAdapter("dora");
            editConfig(dora, c -> c.put("use_dora", true));
            e = assertThrows(FileFormatException.class, () -> LoraModel.loadPeft(base, dora));
            assertTrue(e.getMessage().contains("DoRA"), e.getMessage());

            Path prefix = copyAdapter("prefix");
            editConfig(prefix, c -> c.put("peft_type", "PREFIX_TUNING"));
            assertThrows(FileFormatException.class, () -> LoraModel.loadPeft(base, prefix));

            Path badJson = copyAdapter("json");
            Files.writeString(badJson.resolve("adapter_config.json"), "{ not json");
            assertThrows(FileFormatException.class, () -> LoraModel.loadPeft(base, badJson));

            Path missing = copyAdapter("missing");
            Files.delete(missing.resolve("adapter_model.safetensors"));
            assertThrows(NoSuchFileException.class, () -> LoraModel.loadPeft(base, missing));
            assertThrows(NoSuchFileException.class, () -> LoraModel.loadPeft(base, tmp.resolve("nowhere")));

            // Nothing was left installed by the failed loads; a good load still works.
            base.linearProjections().forEach(p -> assertNull(base.adapter(p.module())));
            try (LoraModel ok = LoraModel.loadPeft(base, adapterDir)) {
                assertTrue(Stories.maxAbsDiff(adapted, Stories.logits(base, batch)) <= 1e-4);
            }
        }
    }

    /** Adds seeded uniform noise in [-scale, scale) to every B, in place. */
    private static void perturbB(LoraModel lora, float scale, long seed) {
        java.util.Random r = new java.util.Random(seed);
        try (NoGrad ignored = NoGrad.enter(); NDManager m = NDManager.newBaseManager()) {
            lora.trainableParameters().forEach((name, b) -> {
                if (name.endsWith("lora_B.weight")) {
                    float[] v = b.toFloatArray();
                    for (int i = 0; i < v.length; i++) {
                        v[i] += (r.nextFloat() * 2 - 1) * scale;
                    }
                    b.set(new NDIndex("..."), m.create(v, b.getShape()));
                }
            });
        }
    }

    private static Path copyAdapter(String name) throws IOException {
        Path dir = tmp.resolve("bad-" + name);
        Files.createDirectories(dir);
        for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors"}) {
            Files.copy(adapterDir.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    private static void editConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = (ObjectNode) json.readTree(dir.resolve("adapter_config.json").toFile());
        edit.accept(c);
        json.writeValue(dir.resolve("adapter_config.json").toFile(), c);
    }
}
