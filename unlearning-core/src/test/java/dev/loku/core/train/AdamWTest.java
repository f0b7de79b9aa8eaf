package dev.loku.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.loku.core.tensor.TensorScope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {

    /** PyTorch AdamW written out in doubles for one parameter vector, step by step. */
    private static double[] referenceAdamW(double[] p0, double[][] grads, double[] lrs, double b1, double b2,
            double eps, double wd) {
        double[] p = p0.clone();
        double[] m = new double[p.length];
        double[] v = new double[p.length];
        for (int t = 1; t <= grads.length; t++) {
            double lr = lrs[t - 1];
            for (int i = 0; i < p.length; i++) {
                double g = grads[t - 1][i];
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double vHat = v[i] / (1 - Math.pow(b2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
        }
        return p;
    }

    @Test
    void threeStepsMatchAHandComputedAdamWWithDecoupledDecay() {
        double[] p0 = {0.5, -1.25, 2.0, 0.0, 3.5, -0.75};
        double[][] grads = {
            {0.1, -0.2, 0.3, 0.05, -1.5, 0.0},
            {-0.3, 0.2, 0.1, 0.04, -1.0, 0.2},
            {0.25, 0.1, -0.4, 0.03, 0.5, -0.1},
        };
        double[] lrs = {0.01, 0.02, 0.005};
        AdamWConfig cfg = new AdamWConfig(0.9, 0.999, 1e-8, 0.1);
        double[] want = referenceAdamW(p0, grads, lrs, 0.9, 0.999, 1e-8, 0.1);
        try (NDManager m = NDManager.newBaseManager(); AdamW adam = new AdamW(cfg, m)) {
            NDArray p = m.create(toFloat(p0), new Shape(2, 3));
            for (int s = 0; s < grads.length; s++) {
                NDArray g = m.create(toFloat(grads[s]), new Shape(2, 3));
                adam.step(Map.of("w", p), Map.of("w", g), lrs[s]);
            }
            float[] got = p.toFloatArray();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-6, "element " + i);
            }
            assertEquals(3, adam.steps("w"));
        }
    }

    @Test
    void firstAdamStepMovesEachWeightByTheLearningRateAgainstTheGradientSign() {
        // Bias correction makes step 1 equal to lr * g / (|g| + eps): a hand value that needs no reference code.
        AdamWConfig adamPreset = TrainingRecipe.extractionBenchmark(8).adam();
        try (NDManager m = NDManager.newBaseManager(); AdamW adam = new AdamW(adamPreset, m)) {
            NDArray p = m.create(new float[] {1f, 1f, 1f});
            adam.step(Map.of("p", p), Map.of("p", m.create(new float[] {3f, -0.001f, 0f})), 0.1);
            float[] got = p.toFloatArray();
            assertEquals(0.9, got[0], 1e-6);
            assertEquals(1.1, got[1], 1e-5);
            assertEquals(1.0, got[2], 0.0, "a zero gradient with no weight decay leaves the weight alone");
        }
    }

    @Test
    void stepRejectsAMissingOrMisshapenGradient() {
        try (NDManager m = NDManager.newBaseManager(); AdamW adam = new AdamW(AdamWConfig.torchDefaults(0), m)) {
            NDArray p = m.zeros(new Shape(2));
            assertThrows(IllegalArgumentException.class, () -> adam.step(Map.of("p", p), Map.of(), 0.1));
            assertThrows(IllegalArgumentException.class,
                    () -> adam.step(Map.of("p", p), Map.of("p", m.zeros(new Shape(3))), 0.1));
        }
    }

    @Test
    void aTrainingLoopWithAccumulationConvergesWithoutGrowingMemory() {
        // Fit w to minimise ||w - target||^2 over two "micro-batches" per step.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.zeros(new Shape(4));
            w.setRequiresGradient(true);
            NDArray target = m.create(new float[] {1f, -2f, 0.5f, 3f});
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", w);
            try (AdamW adam = new AdamW(AdamWConfig.torchDefaults(0), m);
                    GradientAccumulator acc = new GradientAccumulator(m, 2)) {
                int steadyState = -1;
                for (int step = 0; step < 300; step++) {
                    for (int micro = 0; micro < 2; micro++) {
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            TensorScope.run(() -> gc.backward(w.sub(target).square().sum()));
                        }
                        Map<String, NDArray> grads = Gradients.of(params);
                        acc.add(grads);
                        grads.values().forEach(NDArray::close);
                        Gradients.zero(params.values());
                    }
                    adam.step(params, acc.gradients(), 0.05);
                    acc.reset();
                    if (step == 5) {
                        steadyState = m.getManagedArrays().size();
                    }
                }
                assertEquals(steadyState, m.getManagedArrays().size(), "no array may leak per step");
            }
            float[] got = w.toFloatArray();
            float[] want = target.toFloatArray();
            for (int i = 0; i < 4; i++) {
                assertEquals(want[i], got[i], 0.02, "w[" + i + "]");
            }
        }
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    static List<Double> rates(LearningRateSchedule s, int n) {
        Double[] out = new Double[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.rate(i);
        }
        return List.of(out);
    }
}
