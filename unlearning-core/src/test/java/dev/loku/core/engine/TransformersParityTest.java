package dev.loku.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.data.SyntheticPersons;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.io.SafetensorsWriter;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelFamily;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.testing.PythonOracle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The other direction from the golden fixtures: Hugging Face transformers and PEFT load what the engine writes.
 * For every committed fixture family the engine fine-tunes the model a few steps, unlearns with IHL and FILA-
 * initialised LoRA, and writes the merged model, the PEFT adapter and the residual base it applies to, and the
 * rank-2r adapter on the original (fine-tuned) base (docs/method.md §8.6); then {@code tools/fixtures/check_exports.py}
 * loads the merged folder with {@code AutoModelForCausalLM}, the adapter with {@code PeftModel.from_pretrained} on the
 * residual base and the portable adapter on the original folder, and all three must give the engine's logits within
 * 1e-4.
 * Separately, a GPT-Neo of the 125M checkpoint's shape, random-initialised by transformers, must load in the
 * engine with transformers' logits.
 *
 * <p>Needs the Python oracle ({@link PythonOracle}); skipped, saying so, where there is none. About a minute on the
 * 2-core CI machine, most of it the 125M model (created, saved and reloaded: 500 MB of fp32 weights).
 */
@SuppressWarnings("try") // NoGrad is a scope guard
class TransformersParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What "matches transformers" means for fp32 logits (the bound). */
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    @Test
    void transformersAndPeftLoadWhatTheEngineWroteAfterFinetuningAndUnlearning() throws Exception {
        PythonOracle python = PythonOracle.get().assumeAvailable();
        UnlearningEngine engine = new UnlearningEngine(Device.cpu());
        List<SyntheticPersons.Person> people = SyntheticPersons.generate(5, 8);
        Path train = dir.resolve("train.jsonl");
        EngineTuningBench.writePersons(train, people);
        Path forget = dir.resolve("forget.jsonl");
        EngineTuningBench.writePersons(forget, people.subList(0, 2));
        Path retain = dir.resolve("retain.jsonl");
        EngineTuningBench.writePersons(retain, people.subList(2, 8));
        // The forget set doubles as the unseen set: its thresholds are then the forget set's own starting scores,
        // which no epoch 0 can be strictly below, so every run takes at least one training step.
        RecordSets sets = new RecordSets(forget, retain, forget);
        UnlearnSettings settings = UnlearnSettings.loku().withMethod(UnlearningMethod.IHL).withLoraRank(4)
                .withMaxEpochs(2).withBatchSize(2).withLearningRate(1e-2);

        ObjectNode manifest = JSON.createObjectNode();
        ArrayNode cases = manifest.putArray("cases");
        Map<String, ModelFamily> familyOf = new LinkedHashMap<>();
        for (Path fixture : fixtures()) {
            String name = fixture.getFileName().toString();
            Path work = dir.resolve(name);
            FinetuneResult tuned = engine.finetune(fixture.resolve("model"), train, new FinetuneSettings(3, 1e-2, 4,
                    11), work.resolve("finetuned"), null);
            UnlearnResult result = engine.unlearn(tuned.modelDir(), sets, null, settings, work.resolve("out"), null);
            assertNotNull(result.adapterDir(), name + ": a LoRA run writes an adapter");
            assertTrue(result.report().epochs().size() > 1, name + ": at least one training step");
            Path residual = result.adapterDir().resolveSibling("residual-base");
            assertTrue(Files.isRegularFile(residual.resolve("config.json")), name + ": FILA writes its residual base");
            Path portable = result.adapterDir().resolveSibling("adapter-portable");
            assertTrue(Files.isRegularFile(portable.resolve("adapter_model.safetensors")),
                    name + ": FILA writes the adapter on the original base");

            List<int[]> prompts = prompts(fixture);
            Path logits = work.resolve("engine-logits.safetensors");
            try (NoGrad ignored = NoGrad.enter(); CausalLm base = ModelLoader.load(residual, Device.cpu());
                    LoraModel adapted = LoraModel.loadPeft(base, result.adapterDir());
                    NDManager m = NDManager.newBaseManager(Device.cpu())) {
                familyOf.put(name, base.family());
                // The engine's own view of the unlearned model: the residual base with the adapter unmerged.
                Map<String, NDArray> rows = new LinkedHashMap<>();
                for (int i = 0; i < prompts.size(); i++) {
                    rows.put("logits." + i, logitsOf(base, m, prompts.get(i)));
                }
                SafetensorsWriter.write(logits, rows, Map.of("format", "pt"));
                // The adapter carries the weight FILA moved out of the base, so a loader that silently skipped it
                // would be far outside the tolerance.
                adapted.close();
                double moved = maxAbs(logitsOf(base, m, prompts.get(0)).sub(rows.get("logits.0")));
                assertTrue(moved > 100 * TOLERANCE, name + ": the adapter changes the logits by only " + moved);
                // And the merged folder, read back by the engine, computes the same.
                try (CausalLm merged = ModelLoader.load(result.modelDir(), Device.cpu())) {
                    for (int i = 0; i < prompts.size(); i++) {
                        double d = maxAbs(logitsOf(merged, m, prompts.get(i)).sub(rows.get("logits." + i)));
                        assertTrue(d <= TOLERANCE, name + ": merged folder in the engine differs by " + d);
                    }
                }
            }
            ObjectNode c = cases.addObject();
            c.put("name", name);
            c.put("merged", result.modelDir().toString());
            c.put("base", residual.toString());
            c.put("adapter", result.adapterDir().toString());
            c.put("original", tuned.modelDir().toString());
            c.put("portable_adapter", portable.toString());
            c.put("logits", logits.toString());
            putPrompts(c, prompts);
        }
        Path manifestFile = dir.resolve("manifest.json");
        JSON.writeValue(manifestFile.toFile(), manifest);

        JsonNode report = JSON.readTree(python.script("check_exports.py", List.of(manifestFile.toString()),
                Duration.ofMinutes(5)));
        JsonNode versions = report.get("versions");
        for (JsonNode r : report.get("cases")) {
            String name = r.get("name").asText();
            ModelFamily family = familyOf.get(name);
            double merged = r.get("merged_max_abs_diff").asDouble();
            double peft = r.get("peft_max_abs_diff").asDouble();
            double portable = r.get("portable_max_abs_diff").asDouble();
            System.out.printf(Locale.ROOT, "parity %-10s %-19s transformers(merged) %.3g  PEFT(adapter on residual"
                    + " base) %.3g  PEFT(portable adapter, r=%d, on original) %.3g  [transformers %s, peft %s]%n",
                    name, r.get("architecture").asText(), merged, peft, r.get("portable_rank").asInt(), portable,
                    versions.get("transformers").asText(), versions.get("peft").asText());
            assertEquals(family.architecture(), r.get("architecture").asText(), name + ": the family transformers"
                    + " built from the engine's config.json");
            assertTrue(merged <= TOLERANCE, name + ": transformers on the merged model differs by " + merged);
            assertTrue(peft <= TOLERANCE, name + ": PEFT's adapter on the residual base differs by " + peft);
            assertEquals(2 * settings.loraRank(), r.get("portable_rank").asInt(), name + ": portable adapter's rank");
            assertTrue(portable <= TOLERANCE, name + ": PEFT's portable adapter on the original base differs by "
                    + portable);
        }
        assertEquals(familyOf.size(), report.get("cases").size(), "every case was checked");
        // The PEFT defaults each family declares are PEFT's own.
        for (ModelFamily family : new TreeSet<>(familyOf.values())) {
            JsonNode declared = report.get("peft_default_targets").get(family.modelType());
            List<String> theirs = new ArrayList<>();
            declared.forEach(t -> theirs.add(t.asText()));
            assertEquals(theirs, new ArrayList<>(new TreeSet<>(family.peftDefaultTargets())),
                    family + ": PEFT's default LoRA targets");
        }
    }

    @Test
    void transformersReadsABfloat16ExportAsTheEngineComputesIt() throws Exception {
        PythonOracle python = PythonOracle.get().assumeAvailable();
        ObjectNode manifest = JSON.createObjectNode();
        ArrayNode cases = manifest.putArray("cases");
        for (Path fixture : fixtures()) {
            String name = fixture.getFileName().toString();
            Path bf16 = dir.resolve("bf16-" + name);
            List<int[]> prompts = prompts(fixture);
            Path logits = dir.resolve("bf16-" + name + "-logits.safetensors");
            try (NoGrad ignored = NoGrad.enter(); CausalLm full = ModelLoader.load(fixture.resolve("model"),
                    Device.cpu()); NDManager m = NDManager.newBaseManager(Device.cpu())) {
                full.exportAs(ai.djl.ndarray.types.DataType.BFLOAT16);
                dev.loku.core.model.HfExporter.export(full, bf16);
                // The engine's logits of the bfloat16 checkpoint, computed in float32 as transformers will.
                try (CausalLm back = ModelLoader.load(bf16, Device.cpu())) {
                    Map<String, NDArray> rows = new LinkedHashMap<>();
                    for (int i = 0; i < prompts.size(); i++) {
                        rows.put("logits." + i, logitsOf(back, m, prompts.get(i)));
                    }
                    SafetensorsWriter.write(logits, rows, Map.of("format", "pt"));
                }
            }
            ObjectNode c = cases.addObject();
            c.put("name", name);
            c.put("merged", bf16.toString());
            c.put("logits", logits.toString());
            putPrompts(c, prompts);
        }
        Path manifestFile = dir.resolve("bf16-manifest.json");
        JSON.writeValue(manifestFile.toFile(), manifest);
        JsonNode report = JSON.readTree(python.script("check_exports.py", List.of(manifestFile.toString()),
                Duration.ofMinutes(5)));
        for (JsonNode r : report.get("cases")) {
            String name = r.get("name").asText();
            double d = r.get("merged_max_abs_diff").asDouble();
            System.out.printf(Locale.ROOT, "parity %-10s bfloat16 export in transformers %.3g, files %s%n", name, d,
                    r.get("merged_file_dtypes"));
            assertEquals("[\"bfloat16\"]", r.get("merged_file_dtypes").toString(), name + ": stored as bfloat16");
            assertTrue(d <= TOLERANCE, name + ": transformers on the bfloat16 export differs by " + d);
        }
        assertEquals(cases.size(), report.get("cases").size(), "every case was checked");
    }

    @Test
    void aGptNeo125mShapedCheckpointInitialisedByTransformersGivesItsLogits() throws Exception {
        PythonOracle python = PythonOracle.get().assumeAvailable();
        Path out = dir.resolve("gpt-neo-125m");
        long t0 = System.nanoTime();
        python.script("gpt_neo_125m.py", List.of("--out", out.toString(), "--seed", "3", "--tokens", "320"),
                Duration.ofMinutes(5));
        long t1 = System.nanoTime();
        try (NoGrad ignored = NoGrad.enter(); SafetensorsFile golden = SafetensorsFile.open(out.resolve(
                "golden.safetensors")); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            long[] ids = golden.read(m, "ids").toLongArray();
            NDArray expected = golden.readFloat32(m, "logits");
            long t2 = System.nanoTime();
            try (CausalLm model = ModelLoader.load(out.resolve("model"), Device.cpu())) {
                long t3 = System.nanoTime();
                assertEquals(ModelFamily.GPT_NEO, model.family());
                assertEquals(12, model.config().numLayers());
                assertEquals(768, model.config().hiddenSize());
                assertEquals(50257, model.config().vocabSize());
                assertEquals(256, model.config().attentionWindow(1), "layer 1 is local");
                assertEquals(0, model.config().attentionWindow(0), "layer 0 is global");
                int[] seq = new int[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    seq[i] = (int) ids[i];
                }
                NDArray actual = logitsOf(model, m, seq);
                long t4 = System.nanoTime();
                double d = maxAbs(actual.sub(expected));
                System.out.printf(Locale.ROOT, "parity gpt-neo-125m shape (%.1fM parameters, %d tokens > window"
                                + " 256): max |logit - transformers| %.3g (logits up to %.2f); transformers init+save"
                                + " %.1f s, engine load %.1f s, forward %.1f s%n", model.parameterCount() / 1e6,
                        seq.length, d, maxAbs(expected), (t1 - t0) / 1e9, (t3 - t2) / 1e9, (t4 - t3) / 1e9);
                assertTrue(d <= TOLERANCE, "max |logit - transformers| = " + d);
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static List<Path> fixtures() throws IOException {
        try (Stream<Path> dirs = Files.list(ProjectFiles.root().resolve("models").resolve("fixtures"))) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("golden.json"))).sorted().toList();
        }
    }

    private static List<int[]> prompts(Path fixture) throws IOException {
        List<int[]> out = new ArrayList<>();
        for (JsonNode p : JSON.readTree(fixture.resolve("golden.json").toFile()).get("prompts")) {
            int[] ids = new int[p.get("ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = p.get("ids").get(i).asInt();
            }
            out.add(ids);
        }
        return out;
    }

    /** {@code [T, V]} logits of one unpadded sequence, in {@code m}. */
    private static NDArray logitsOf(CausalLm model, NDManager m, int[] ids) {
        NDArray l = model.logits(m, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0));
        return l.get(new NDIndex("0, :, :"));
    }

    private static double maxAbs(NDArray a) {
        return a.abs().max().getFloat();
    }

    /** The prompts' token ids as the manifest's {@code prompts} array. */
    private static void putPrompts(ObjectNode c, List<int[]> prompts) {
        ArrayNode ps = c.putArray("prompts");
        for (int[] p : prompts) {
            ArrayNode a = ps.addArray();
            for (int id : p) {
                a.add(id);
            }
        }
    }
}
