package dev.loku.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.loku.core.model.LinearProjection;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.train.Gradients;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LoRA on stories260K with PEFT's default initialisation: the model is unchanged at step 0; with non-zero B the
 * adapted logits equal those of a copy whose weights are W + s·B·A computed in plain Java; merge/unmerge; only the
 * factors receive gradients.
 */
@SuppressWarnings("try")
class LoraModelTest {
    private static CausalLm model;
    private static TokenBatch batch;
    private static float[] baseLogits;

    @BeforeAll
    static void load() {
        model = Stories.model();
        batch = Stories.batch(model, Stories.examples(model, 0, 4));
        baseLogits = Stories.logits(model, batch);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void configDefaultsAndSelection() {
        LoraConfig c = LoraConfig.defaults(4);
        assertEquals(8.0, c.alpha());
        assertEquals(2.0, c.scaling());
        assertEquals(LoraConfig.ALL_TARGETS, c.targets());
        assertEquals(7 * model.config().numLayers(), c.select(model).size());
        LoraConfig attn = new LoraConfig(2, 16, 0, List.of("v_proj", "q_proj"));
        assertEquals(List.of("q_proj", "v_proj"), attn.targets());
        assertEquals(8.0, attn.scaling());
        assertTrue(attn.select(model).stream().allMatch(p -> p.kind().equals("q_proj") || p.kind().equals("v_proj")));
        assertEquals(List.of("mlp"), new LoraConfig(1, 2, 0, List.of("mlp")).targets());
        assertEquals(List.of("gate_proj", "up_proj", "down_proj"),
                new LoraConfig(1, 2, 0, List.of("mlp")).kinds(model.family()));
        assertEquals(List.of("q_proj", "v_proj"), new LoraConfig(1, 2, 0, List.of("peft")).kinds(model.family()));
        assertThrows(IllegalArgumentException.class,
                () -> new LoraConfig(1, 2, 0, List.of("c_fc")).select(model)); // a GPT-Neo projection
        assertThrows(IllegalArgumentException.class, () -> new LoraConfig(4, 8, 0, List.of("lm_head")));
        assertThrows(IllegalArgumentException.class, () -> new LoraConfig(0, 8, 0, List.of("all")));
    }

    @Test
    void defaultInitLeavesLogitsUnchangedAndAdaptedLogitsMatchAnIndependentMerge() {
        LoraConfig config = LoraConfig.defaults(4);
        Map<String, float[]> originalWeights = new HashMap<>();
        model.parameters().forEach((n, w) -> originalWeights.put(n, w.toFloatArray()));
        try (LoraModel lora = LoraModel.attach(model, config, 11)) {
            // PEFT's default: B = 0, A ~ U(-1/sqrt(in), 1/sqrt(in)).
            Map<String, NDArray> params = lora.trainableParameters();
            assertEquals(2 * config.select(model).size(), params.size());
            LinearProjection first = config.select(model).get(0);
            NDArray a0 = params.get("base_model.model." + first.module() + ".lora_A.weight");
            assertEquals(new Shape(4, first.inFeatures()), a0.getShape());
            double bound = 1 / Math.sqrt(first.inFeatures());
            float[] av = a0.toFloatArray();
            assertTrue(Stories.maxAbs(av) <= bound && Stories.maxAbs(av) > 0.8 * bound);
            assertEquals(0.0, Stories.maxAbs(params.get("base_model.model." + first.module() + ".lora_B.weight")
                    .toFloatArray()));
            assertEquals(0.0, Stories.maxAbsDiff(baseLogits, Stories.logits(model, batch)), "step 0 must be exact");

            randomiseB(lora, 0.15f, 3);
            float[] adapted = Stories.logits(model, batch);
            assertTrue(Stories.maxAbsDiff(adapted, baseLogits) > 0.1, "the adapters should change the logits: "
                    + Stories.maxAbsDiff(adapted, baseLogits));

            try (CausalLm merged = model.copy()) {
                for (LinearProjection p : config.select(model)) {
                    NDArray a = lora.trainableParameters().get(LoraModel.peftKey(p.module(), "A"));
                    NDArray b = lora.trainableParameters().get(LoraModel.peftKey(p.module(), "B"));
                    float[] w = plainMerge(model.parameter(p.weightName()).toFloatArray(), b.toFloatArray(),
                            a.toFloatArray(), p.outFeatures(), p.inFeatures(), 4, config.scaling());
                    try (NDManager m = NDManager.newBaseManager()) {
                        merged.assignParameter(p.weightName(), m.create(w, new Shape(p.outFeatures(),
                                p.inFeatures())));
                    }
                }
                float[] expected = Stories.logits(merged, batch);
                assertTrue(Stories.maxAbsDiff(adapted, expected) <= 1e-4,
                        "adapted vs independent merge: " + Stories.maxAbsDiff(adapted, expected) + " base change "
                                + Stories.maxAbsDiff(adapted, baseLogits));

                lora.merge();
                assertTrue(lora.isMerged());
                assertNull(model.adapter(first.module()));
                assertTrue(Stories.maxAbsDiff(Stories.logits(model, batch), expected) <= 1e-4);
                lora.unmerge();
                assertSame(lora.trainableParameters().size(), params.size());
                for (Map.Entry<String, float[]> e : originalWeights.entrySet()) {
                    assertTrue(Stories.maxAbsDiff(e.getValue(), model.parameter(e.getKey()).toFloatArray()) <= 1e-5,
                            e.getKey() + " not restored");
                }
                double again = Stories.maxAbsDiff(Stories.logits(model, batch), adapted);
                assertTrue(again <= 1e-4, "after unmerge: " + again);
                assertThrows(IllegalStateException.class, lora::unmerge);
            }
        }
        // close() takes the adapters off and leaves the base as it was (merge + unmerge round in fp32).
        assertTrue(Stories.maxAbsDiff(baseLogits, Stories.logits(model, batch)) <= 1e-4);
        model.linearProjections().forEach(p -> assertNull(model.adapter(p.module())));
    }

    @Test
    void onlyTheFactorsReceiveGradients() {
        try (LoraModel lora = LoraModel.attach(model, new LoraConfig(2, 4, 0, List.of("q_proj", "down_proj")), 5)) {
            randomiseB(lora, 0.05f, 9);
            try (NDManager m = model.manager().newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.meanNll(m, batch));
            }
            for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
                assertFalse(e.getValue().hasGradient(), e.getKey() + " must stay frozen");
            }
            for (Map.Entry<String, NDArray> e : lora.trainableParameters().entrySet()) {
                assertTrue(e.getValue().hasGradient(), e.getKey());
                try (NDArray g = e.getValue().getGradient()) {
                    assertTrue(Stories.maxAbs(g.toFloatArray()) > 0, e.getKey() + " has a zero gradient");
                }
            }
            // Training steps (forward, backward, read and zero the gradients) leave no arrays behind.
            int arrays = -1;
            for (int step = 0; step < 4; step++) {
                try (NDManager m = model.manager().newSubManager();
                        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(model.meanNll(m, batch));
                }
                Map<String, NDArray> grads = Gradients.of(lora.trainableParameters());
                grads.values().forEach(NDArray::close);
                Gradients.zero(lora.trainableParameters().values());
                if (step == 1) {
                    arrays = model.manager().getManagedArrays().size();
                } else if (step > 1) {
                    assertEquals(arrays, model.manager().getManagedArrays().size(), "arrays leaked in step " + step);
                }
            }
        }
    }

    @Test
    void dropoutOnlyWhileTrainingAndNoArraysLeakPerForward() {
        try (LoraModel lora = LoraModel.attach(model, new LoraConfig(4, 8, 0.5, List.of("all")), 1)) {
            randomiseB(lora, 0.05f, 4);
            float[] eval = Stories.logits(model, batch);
            assertEquals(0.0, Stories.maxAbsDiff(eval, Stories.logits(model, batch)));
            lora.setTraining(true);
            assertTrue(Stories.maxAbsDiff(eval, Stories.logits(model, batch)) > 1e-3, "dropout had no effect");
            lora.setTraining(false);
            int arrays = model.manager().getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                Stories.logits(model, batch);
            }
            assertEquals(arrays, model.manager().getManagedArrays().size());
            assertEquals(0.0, Stories.maxAbsDiff(eval, Stories.logits(model, batch)));
        }
    }

    @Test
    void refusesASecondAttachOnTheSameProjections() {
        try (LoraModel lora = LoraModel.attach(model, LoraConfig.defaults(2), 1)) {
            assertThrows(IllegalStateException.class, () -> LoraModel.attach(model, LoraConfig.defaults(2), 2));
            assertSame(lora.model(), model);
        }
        assertThrows(IllegalArgumentException.class, () -> LoraModel.attach(model, LoraConfig.defaults(1000), 2));
    }

    /** Fills every B with uniform values in [-scale, scale) (seeded), in place. */
    static void randomiseB(LoraModel lora, float scale, long seed) {
        Random r = new Random(seed);
        try (NoGrad ignored = NoGrad.enter(); NDManager m = NDManager.newBaseManager()) {
            for (Map.Entry<String, NDArray> e : lora.trainableParameters().entrySet()) {
                if (e.getKey().endsWith("lora_B.weight")) {
                    NDArray b = e.getValue();
                    float[] v = new float[(int) b.size()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (r.nextFloat() * 2 - 1) * scale;
                    }
                    b.set(new NDIndex("..."), m.create(v, b.getShape()));
                }
            }
        }
    }

    /** W + s·B·A in double precision, row-major [out, in]. */
    static float[] plainMerge(float[] w, float[] b, float[] a, int out, int in, int r, double s) {
        float[] res = new float[w.length];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                double acc = 0;
                for (int k = 0; k < r; k++) {
                    acc += (double) b[i * r + k] * a[k * in + j];
                }
                res[i * in + j] = (float) (w[i * in + j] + s * acc);
            }
        }
        return res;
    }

    static List<String> names(Map<String, ?> m) {
        return new ArrayList<>(m.keySet());
    }
}
