package dev.loku.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.fisher.FisherPass;
import dev.loku.core.model.HfExporter;
import dev.loku.core.model.LinearProjection;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.TokenBatch;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FILA on stories260K with a real Fisher pass (stories.jsonl records 0-4 as the forget set, 10-14 as retain):
 * unchanged logits at step 0, rewritten base weights, residual + s·B·A = W, and factors shaped by the importance.
 */
class FilaAttachTest {

    @Test
    void filaRewritesTheBaseAndKeepsTheFunctionAtStepZero() throws Exception {
        try (CausalLm model = Stories.model()) {
            List<EncodedExample> forget = Stories.examples(model, 0, 5);
            List<EncodedExample> retain = Stories.examples(model, 10, 15);
            TokenBatch batch = Stories.batch(model, Stories.examples(model, 0, 8));
            float[] before = Stories.logits(model, batch);
            Map<String, float[]> original = new HashMap<>();
            model.parameters().forEach((n, w) -> original.put(n, w.toFloatArray()));

            LoraConfig config = LoraConfig.defaults(4);
            try (FisherImportance importance = FisherPass.run(model, forget, retain, null, 2, Map.of());
                    LoraModel lora = LoraModel.attachFila(model, config, importance, 42)) {
                float[] after = Stories.logits(model, batch);
                double diff = Stories.maxAbsDiff(before, after);
                assertTrue(diff <= 1e-4 * Stories.maxAbs(before), "logits moved by " + diff + " at step 0 (max |logit| "
                        + Stories.maxAbs(before) + ")");

                for (LinearProjection p : config.select(model)) {
                    float[] w0 = original.get(p.weightName());
                    float[] res = model.parameter(p.weightName()).toFloatArray();
                    NDArray a = lora.trainableParameters().get(LoraModel.peftKey(p.module(), "A"));
                    NDArray b = lora.trainableParameters().get(LoraModel.peftKey(p.module(), "B"));
                    assertEquals(new Shape(4, p.inFeatures()), a.getShape());
                    assertEquals(new Shape(p.outFeatures(), 4), b.getShape());
                    // The base now holds W - s·B₀A₀: far from W, and W is recovered by adding s·B₀A₀ back.
                    double moved = Stories.maxAbsDiff(w0, res);
                    assertTrue(moved > 0.1 * Stories.maxAbs(w0), p.weightName() + " barely changed: " + moved);
                    float[] rebuilt = LoraModelTest.plainMerge(res, b.toFloatArray(), a.toFloatArray(),
                            p.outFeatures(), p.inFeatures(), 4, config.scaling());
                    assertTrue(Stories.maxAbsDiff(w0, rebuilt) <= 1e-5 * Stories.maxAbs(w0) + 1e-6,
                            p.weightName() + ": W_res + s·B·A differs from W by " + Stories.maxAbsDiff(w0, rebuilt));
                    assertTrue(a.hasGradient() && b.hasGradient());
                    assertTrue(!model.parameter(p.weightName()).hasGradient());
                }
            }
            // Closing the adapters leaves the residual base: the model's function now differs.
            assertTrue(Stories.maxAbsDiff(before, Stories.logits(model, batch)) > 1e-2);
        }
    }

    /**
     * An importance measured on the llama2.c checkpoint (interleaved q/k rows) applied to the same model exported
     * as a Hugging Face folder (rotate_half rows): FILA permutes the q/k importance rows, so both runs produce the
     * same residual base up to the exporter's row permutation. Step-0 logits alone could not show this (FILA keeps
     * the function whatever the importance), the residuals do.
     */
    @Test
    void importanceFromTheOtherRotaryLayoutIsPermutedToTheModel(@TempDir Path tmp) throws Exception {
        Path hf = tmp.resolve("hf");
        Path residualFromBin = tmp.resolve("residual-bin");
        try (CausalLm bin = Stories.model()) {
            HfExporter.export(bin, hf);
            try (FisherImportance importance = FisherPass.run(bin, Stories.examples(bin, 0, 4),
                    Stories.examples(bin, 10, 14), null, 2, Map.of())) {
                importance.save(tmp.resolve("importance.safetensors"));
                try (LoraModel lora = LoraModel.attachFila(bin, LoraConfig.defaults(4), importance, 42)) {
                    lora.exportBase(residualFromBin);
                }
            }
        }
        try (CausalLm half = ModelLoader.load(hf, Device.cpu());
                CausalLm expected = ModelLoader.load(residualFromBin, Device.cpu());
                NDManager m = NDManager.newBaseManager()) {
            TokenBatch batch = Stories.batch(half, Stories.examples(half, 0, 4));
            float[] before = Stories.logits(half, batch);
            try (FisherImportance importance = FisherImportance.load(tmp.resolve("importance.safetensors"), m);
                    LoraModel lora = LoraModel.attachFila(half, LoraConfig.defaults(4), importance, 42)) {
                assertEquals("INTERLEAVED", importance.metadata().get(FisherPass.KEY_ROTARY_LAYOUT));
                assertTrue(Stories.maxAbsDiff(before, Stories.logits(half, batch)) <= 1e-4 * Stories.maxAbs(before));
                for (String name : FisherPass.projectionWeights(half, List.of("q_proj", "k_proj", "down_proj"))) {
                    float[] w = half.parameter(name).toFloatArray();
                    double d = Stories.maxAbsDiff(w, expected.parameter(name).toFloatArray());
                    assertTrue(d <= 1e-5 * Stories.maxAbs(w) + 1e-6, name + ": residuals differ by " + d);
                }
            }
        }
    }

    @Test
    void filaNeedsImportanceForEveryTarget() throws Exception {
        try (CausalLm model = Stories.model()) {
            List<EncodedExample> forget = Stories.examples(model, 0, 2);
            List<EncodedExample> retain = Stories.examples(model, 10, 12);
            List<String> qOnly = FisherPass.projectionWeights(model, List.of("q_proj"));
            try (FisherImportance importance = FisherPass.run(model, forget, retain, qOnly, 2, Map.of())) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> LoraModel.attachFila(model, LoraConfig.defaults(2), importance, 1));
                assertTrue(e.getMessage().contains("k_proj"), e.getMessage());
                // An importance holding NaN is refused before any weight is touched.
                try (NDManager m = NDManager.newBaseManager()) {
                    Map<String, NDArray> tensors = new HashMap<>(importance.tensors());
                    String key = FisherImportance.FORGET_PREFIX + qOnly.get(1);
                    tensors.put(key, m.full(tensors.get(key).getShape(), Float.NaN));
                    float[] before = model.parameter(qOnly.get(0)).toFloatArray();
                    try (FisherImportance bad = FisherImportance.fromTensors(m, tensors, importance.metadata())) {
                        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                                () -> LoraModel.attachFila(model, new LoraConfig(2, 4, 0, List.of("q_proj")), bad, 1));
                        assertTrue(nan.getMessage().contains("NaN") && nan.getMessage().contains(qOnly.get(1)),
                                nan.getMessage());
                    }
                    model.linearProjections().forEach(p -> assertEquals(null, model.adapter(p.module())));
                    assertEquals(0.0, Stories.maxAbsDiff(before, model.parameter(qOnly.get(0)).toFloatArray()),
                            "no weight may be rewritten when the importance is refused");
                }
                float[] w = model.parameter(qOnly.get(0)).toFloatArray();
                try (LoraModel lora = LoraModel.attachFila(model, new LoraConfig(2, 4, 0, List.of("q_proj")),
                        importance, 1)) {
                    assertEquals(2 * model.config().numLayers(), lora.trainableParameters().size());
                    assertTrue(Stories.maxAbsDiff(w, model.parameter(qOnly.get(0)).toFloatArray()) > 0);
                }
            }
        }
    }
}
