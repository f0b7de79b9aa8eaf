package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The NDArray decoder against {@link ReferenceLlama}, plus gradients, adapters, padding and weight access. */
class LlamaModelTest {
    /** GQA (4 query heads on 2 KV heads), untied head, a non-default theta and eps, HF layout. */
    static final LlamaConfig HALF_GQA = new LlamaConfig(32, 48, 2, 4, 2, 8, 61, 64, 1e-6, 500000.0, null, false,
            RotaryLayout.HALF, 1, List.of(2), -1);
    /** Meta/llama2.c layout, tied head, plain multi-head attention. */
    static final LlamaConfig INTERLEAVED_TIED = new LlamaConfig(24, 40, 3, 3, 3, 8, 50, 64, 1e-5, 10000.0, null,
            true, RotaryLayout.INTERLEAVED, 1, List.of(2), -1);

    /** A random model with weights large enough that every component visibly moves the logits. */
    static LlamaModel randomModel(LlamaConfig config, long seed) {
        LlamaModel model = LlamaModel.randomInit(config, null, seed, Device.cpu());
        Random rnd = new Random(seed);
        try (NDManager tmp = NDManager.newBaseManager(Device.cpu())) {
            for (String name : model.parameterNames()) {
                NDArray p = model.parameter(name);
                float[] v = new float[(int) p.size()];
                boolean norm = name.endsWith("norm.weight");
                for (int i = 0; i < v.length; i++) {
                    v[i] = norm ? 0.5f + rnd.nextFloat() : (float) (rnd.nextGaussian() * 0.3);
                }
                model.assignParameter(name, tmp.create(v, p.getShape()));
            }
        }
        return model;
    }

    static int[] randomIds(Random rnd, int length, int vocab) {
        int[] ids = new int[length];
        ids[0] = 1;
        for (int i = 1; i < length; i++) {
            ids[i] = rnd.nextInt(vocab);
        }
        return ids;
    }

    static float[][] rowLogits(CausalLm model, TokenBatch batch, int row) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray logits = model.logits(m, batch);
            int t = batch.length();
            int v = (int) logits.getShape().get(2);
            float[] flat = logits.toFloatArray();
            int off = batch.rowOffset(row);
            float[][] out = new float[batch.rowLength(row)][v];
            for (int i = 0; i < out.length; i++) {
                System.arraycopy(flat, (row * t + off + i) * v, out[i], 0, v);
            }
            return out;
        }
    }

    static double maxDiff(float[][] a, double[][] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return m;
    }

    @Test
    void matchesTheReferenceInBothRotaryLayouts() {
        for (LlamaConfig config : List.of(HALF_GQA, INTERLEAVED_TIED)) {
            try (LlamaModel model = randomModel(config, 7)) {
                ReferenceLlama ref = new ReferenceLlama(model, ReferenceLlama.plainInvFreq(config));
                int[] ids = randomIds(new Random(3), 11, config.vocabSize());
                double err = maxDiff(rowLogits(model, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0), 0),
                        ref.logits(ids));
                assertTrue(err < 2e-4, config.rotaryLayout() + ": max logit error " + err);
            }
        }
    }

    @Test
    void aWrongRotaryLayoutIsDetected() {
        // Guards the test above: the reference must be able to tell the layouts apart.
        try (LlamaModel model = randomModel(HALF_GQA, 7)) {
            ReferenceLlama halfRef = new ReferenceLlama(model, ReferenceLlama.plainInvFreq(HALF_GQA));
            NDManager target = LlamaModel.newModelManager(Device.cpu(), "other");
            try (LlamaModel other = LlamaModel.of(HALF_GQA.withRotaryLayout(RotaryLayout.INTERLEAVED), null,
                    copyWeights(model, target), target)) {
                int[] ids = randomIds(new Random(3), 11, HALF_GQA.vocabSize());
                double err = maxDiff(rowLogits(other, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0), 0),
                        halfRef.logits(ids));
                assertTrue(err > 1e-2, "layouts indistinguishable: " + err);
            }
        }
    }

    @Test
    void llama3RopeScalingFollowsItsDefinition() {
        RopeScaling scaling = new RopeScaling("llama3", 8.0, 1.0, 4.0, 16);
        LlamaConfig config = new LlamaConfig(32, 48, 1, 2, 2, 16, 40, 64, 1e-5, 10000.0, scaling, false,
                RotaryLayout.HALF, 1, List.of(2), -1);
        double[] inv = ReferenceLlama.plainInvFreq(config);
        // Written out from the published rule: wavelength < 16/4 kept, > 16/1 divided by 8, blended between.
        double[] expected = new double[inv.length];
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen < 4) {
                expected[i] = inv[i];
            } else if (wavelen > 16) {
                expected[i] = inv[i] / 8;
            } else {
                double smooth = (16 / wavelen - 1) / 3;
                expected[i] = (1 - smooth) * inv[i] / 8 + smooth * inv[i];
            }
        }
        try (LlamaModel model = randomModel(config, 11)) {
            int[] ids = randomIds(new Random(5), 20, 40);
            double err = maxDiff(rowLogits(model, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0), 0),
                    new ReferenceLlama(model, expected).logits(ids));
            assertTrue(err < 2e-4, "max logit error " + err);
        }
    }

    @Test
    void paddedBatchesGiveEachRowItsOwnLogits() {
        try (LlamaModel model = randomModel(HALF_GQA, 9)) {
            ReferenceLlama ref = new ReferenceLlama(model, ReferenceLlama.plainInvFreq(HALF_GQA));
            Random rnd = new Random(4);
            List<int[]> rows = List.of(randomIds(rnd, 3, 61), randomIds(rnd, 9, 61), randomIds(rnd, 1, 61),
                    randomIds(rnd, 6, 61));
            for (TokenBatch.Padding padding : TokenBatch.Padding.values()) {
                TokenBatch batch = TokenBatch.of(rows, padding, 0);
                for (int r = 0; r < rows.size(); r++) {
                    double err = maxDiff(rowLogits(model, batch, r), ref.logits(rows.get(r)));
                    assertTrue(err < 2e-4, padding + " row " + r + ": max logit error " + err);
                }
            }
        }
    }

    @Test
    void logProbsAndMeanNllFollowTheLabelMask() {
        try (LlamaModel model = randomModel(HALF_GQA, 12); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Random rnd = new Random(8);
            List<int[]> rows = List.of(randomIds(rnd, 7, 61), randomIds(rnd, 4, 61));
            ReferenceLlama ref = new ReferenceLlama(model, ReferenceLlama.plainInvFreq(HALF_GQA));
            // Score only the last three tokens of row 0 and all of row 1.
            TokenBatch batch = TokenBatch.of(rows, TokenBatch.Padding.RIGHT, 0)
                    .withLabelMask(List.of(new int[] {0, 0, 0, 0, 1, 1, 1}, new int[] {1, 1, 1, 1}));
            double sum = 0;
            int n = 0;
            float[] lp = model.tokenLogProbs(m, batch).toFloatArray();
            int t = batch.length();
            int[][] mask = batch.labelMask();
            for (int r = 0; r < rows.size(); r++) {
                double[][] logits = ref.logits(rows.get(r));
                for (int i = 1; i < rows.get(r).length; i++) {
                    double expected = logSoftmax(logits[i - 1], rows.get(r)[i]);
                    assertEquals(expected, lp[r * t + i], 2e-4, "row " + r + " token " + i);
                    if (mask[r][i] == 1) {
                        sum -= expected;
                        n++;
                    }
                }
            }
            assertEquals(6, n);
            assertEquals(sum / n, model.meanNll(m, batch).getFloat(), 2e-4);
        }
    }

    private static double logSoftmax(double[] z, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (double v : z) {
            s += Math.exp(v - max);
        }
        return z[k] - max - Math.log(s);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        try (LlamaModel model = randomModel(HALF_GQA, 21); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Random rnd = new Random(2);
            TokenBatch batch = TokenBatch.of(List.of(randomIds(rnd, 8, 61), randomIds(rnd, 5, 61)),
                    TokenBatch.Padding.RIGHT, 0);
            for (String name : List.of("model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight",
                    "model.layers.0.input_layernorm.weight", "model.embed_tokens.weight")) {
                NDArray w = model.parameter(name);
                float[] original = w.toFloatArray();
                w.setRequiresGradient(true);
                float[] grad;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = model.meanNll(m, batch);
                    gc.backward(loss);
                }
                try (NDArray g = w.getGradient()) {
                    grad = g.toFloatArray();
                }
                w.setRequiresGradient(false);

                float[] dir = new float[original.length];
                double analytic = 0;
                for (int i = 0; i < dir.length; i++) {
                    dir[i] = (float) rnd.nextGaussian();
                    analytic += grad[i] * dir[i];
                }
                double eps = 1e-3;
                double plus = lossWith(model, m, batch, name, original, dir, eps);
                double minus = lossWith(model, m, batch, name, original, dir, -eps);
                model.assignParameter(name, m.create(original, w.getShape()));
                double numeric = (plus - minus) / (2 * eps);
                assertEquals(numeric, analytic, 2e-2 * Math.max(1, Math.abs(numeric)), name);
            }
        }
    }

    private static double lossWith(LlamaModel model, NDManager m, TokenBatch batch, String name, float[] base,
                                   float[] dir, double eps) {
        float[] v = new float[base.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (base[i] + eps * dir[i]);
        }
        model.assignParameter(name, m.create(v, model.parameter(name).getShape()));
        return model.meanNll(m, batch).getFloat();
    }

    @Test
    void anAdapterActsLikeAddingItsMatrixToTheWeight() {
        String module = "model.layers.1.mlp.up_proj";
        try (LlamaModel model = randomModel(HALF_GQA, 31); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            LinearProjection proj = model.linearProjections().stream().filter(p -> p.module().equals(module))
                    .findFirst().orElseThrow();
            assertEquals(48, proj.outFeatures());
            assertEquals(32, proj.inFeatures());
            assertEquals("up_proj", proj.kind());
            assertEquals(7 * 2, model.linearProjections().size());

            NDArray delta = m.randomNormal(0, 0.2f, new Shape(proj.outFeatures(), proj.inFeatures()),
                    ai.djl.ndarray.types.DataType.FLOAT32);
            Random rnd = new Random(1);
            TokenBatch batch = TokenBatch.of(List.of(randomIds(rnd, 6, 61)), TokenBatch.Padding.RIGHT, 0);
            model.setAdapter(module, x -> Linear.linear(x, delta).singletonOrThrow());
            float[][] withAdapter = rowLogits(model, batch, 0);

            delta.setRequiresGradient(true);
            float[] adapterGrad;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.meanNll(m, batch));
            }
            adapterGrad = delta.getGradient().toFloatArray();
            delta.setRequiresGradient(false);
            model.setAdapter(module, null);

            NDArray w = model.parameter(proj.weightName());
            NDArray merged = w.add(delta);
            merged.attach(m);
            model.assignParameter(proj.weightName(), merged);
            float[][] mergedLogits = rowLogits(model, batch, 0);
            for (int i = 0; i < withAdapter.length; i++) {
                for (int j = 0; j < withAdapter[i].length; j++) {
                    assertEquals(mergedLogits[i][j], withAdapter[i][j], 1e-4);
                }
            }
            // d loss / d delta equals d loss / d W, since the layer sees W + delta either way.
            w.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.meanNll(m, batch));
            }
            float[] weightGrad = w.getGradient().toFloatArray();
            w.setRequiresGradient(false);
            for (int i = 0; i < weightGrad.length; i++) {
                assertEquals(weightGrad[i], adapterGrad[i], 1e-5);
            }
            assertThrows(IllegalArgumentException.class, () -> model.setAdapter("model.norm", x -> x));
        }
    }

    @Test
    void assignParameterWritesInPlaceAndCopiesAreIndependent() {
        try (LlamaModel model = randomModel(INTERLEAVED_TIED, 5); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            TokenBatch batch = TokenBatch.of(List.of(randomIds(new Random(1), 5, 50)), TokenBatch.Padding.RIGHT, 0);
            float[][] before = rowLogits(model, batch, 0);
            CausalLm frozen = model.copy();
            String name = "model.layers.2.self_attn.v_proj.weight";
            NDArray tensor = model.parameter(name);
            model.assignParameter(name, m.zeros(tensor.getShape()));
            assertSame(tensor, model.parameter(name));
            assertEquals(0f, tensor.abs().sum().getFloat());
            float[][] after = rowLogits(model, batch, 0);
            assertNotEquals(before[4][3], after[4][3]);
            float[][] fromCopy = rowLogits(frozen, batch, 0);
            assertEquals(before[4][3], fromCopy[4][3], 0f);
            frozen.close();
            assertEquals(after[4][3], rowLogits(model, batch, 0)[4][3], 0f); // closing the copy left the model intact
            assertThrows(IllegalArgumentException.class, () -> model.assignParameter(name, m.zeros(new Shape(2, 2))));
            assertThrows(IllegalArgumentException.class, () -> model.parameter("model.nope"));
        }
    }

    @Test
    void interleavedWeightsPermutedToTheHalfLayoutGiveTheSameLogits() {
        try (LlamaModel model = randomModel(INTERLEAVED_TIED, 17); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            java.util.Map<String, NDArray> hf = HfExporter.hfTensors(model, m);
            NDManager target = LlamaModel.newModelManager(Device.cpu(), "permuted");
            java.util.Map<String, NDArray> weights = new java.util.LinkedHashMap<>();
            hf.forEach((k, v) -> {
                NDArray c = v.duplicate();
                c.attach(target);
                weights.put(k, c);
            });
            try (LlamaModel half = LlamaModel.of(INTERLEAVED_TIED.withRotaryLayout(RotaryLayout.HALF), null, weights,
                    target)) {
                TokenBatch batch = TokenBatch.of(List.of(randomIds(new Random(6), 9, 50)), TokenBatch.Padding.RIGHT, 0);
                float[][] a = rowLogits(model, batch, 0);
                float[][] b = rowLogits(half, batch, 0);
                for (int i = 0; i < a.length; i++) {
                    for (int j = 0; j < a[i].length; j++) {
                        assertEquals(a[i][j], b[i][j], 1e-4);
                    }
                }
                NDArray q = model.parameter("model.layers.0.self_attn.q_proj.weight");
                NDArray back = RotaryLayout.halfToInterleaved(half.parameter("model.layers.0.self_attn.q_proj.weight"),
                        INTERLEAVED_TIED.numHeads());
                back.attach(m);
                assertTrue(q.contentEquals(back));
            }
        }
    }

    private static java.util.Map<String, NDArray> copyWeights(LlamaModel model, NDManager target) {
        java.util.Map<String, NDArray> out = new java.util.LinkedHashMap<>();
        model.parameters().forEach((k, v) -> {
            NDArray c = v.duplicate();
            c.attach(target);
            out.put(k, c);
        });
        return out;
    }

    static List<int[]> prompts(Random rnd, int vocab, int... lengths) {
        List<int[]> out = new ArrayList<>();
        for (int len : lengths) {
            out.add(randomIds(rnd, len, vocab));
        }
        return out;
    }
}
