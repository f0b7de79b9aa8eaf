package dev.loku.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScheduleAndRecipeTest {

    private static void assertRates(double[] want, LearningRateSchedule s) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], s.rate(i), 1e-12, "update " + i);
        }
    }

    @Test
    void linearWarmupThenDecayToZeroLikeHuggingFace() {
        // warm-up 3, total 10, peak 1: u/3 for u < 3, then (10 - u)/7, clamped at 0 afterwards.
        assertRates(new double[] {0, 1 / 3.0, 2 / 3.0, 1, 6 / 7.0, 5 / 7.0, 4 / 7.0, 3 / 7.0, 2 / 7.0, 1 / 7.0, 0, 0},
                LearningRateSchedule.linearWarmupDecay(1.0, 3, 10));
        assertRates(new double[] {2e-4, 1.5e-4, 1e-4, 5e-5, 0}, LearningRateSchedule.linearWarmupDecay(2e-4, 0, 4));
        assertRates(new double[] {5e-5, 5e-5, 5e-5}, LearningRateSchedule.constant(5e-5));
    }

    @Test
    void tofuRecipeReproducesTheReferenceStepCounts() {
        TrainingRecipe r = TrainingRecipe.tofu(1e-4);
        assertEquals(0.01, r.adam().weightDecay());
        assertEquals(0.999, r.adam().beta2());
        // forget01 / 05 / 10 with 5 epochs at effective batch 32 (docs/method.md §3.1 table).
        assertEquals(1, r.stepsPerEpoch(40));
        assertEquals(6, r.totalSteps(40, 5));
        assertEquals(6, r.stepsPerEpoch(200));
        assertEquals(31, r.totalSteps(200, 5));
        assertEquals(12, r.stepsPerEpoch(400));
        assertEquals(62, r.totalSteps(400, 5));
        assertEquals(16, r.microBatchesPerStep(400));
        // forget01: warm-up of one step, so update 0 runs at rate 0, then decay over the remaining 5 (§8.8, §8.9).
        assertRates(new double[] {0, 1e-4, 0.8e-4, 0.6e-4, 0.4e-4, 0.2e-4, 0}, r.schedule(40, 5));
        // forget10: peak at update 12 = one epoch.
        LearningRateSchedule s = r.schedule(400, 5);
        assertEquals(0.5e-4, s.rate(6), 1e-15);
        assertEquals(1e-4, s.rate(12), 1e-15);
        assertEquals(1e-4 * 25 / 50, s.rate(37), 1e-15);
    }

    @Test
    void extractionBenchmarkRecipeIsOneConstantAdamStepPerEpoch() {
        TrainingRecipe r = TrainingRecipe.extractionBenchmark(8);
        assertEquals(new AdamWConfig(0.9, 0.98, 1e-8, 0.0), r.adam());
        assertEquals(5e-5, r.learningRate());
        assertTrue(r.oneStepPerEpoch());
        assertEquals(1, r.stepsPerEpoch(32));
        assertEquals(4, r.microBatchesPerStep(32), "32 sequences in micro-batches of 8 feed one step");
        assertEquals(5, r.microBatchesPerStep(33));
        assertEquals(20, r.totalSteps(32, 20));
        assertRates(new double[] {5e-5, 5e-5, 5e-5}, r.schedule(32, 20));
    }

    @Test
    void accumulatorAveragesMicroBatchGradients() {
        try (NDManager m = NDManager.newBaseManager(); GradientAccumulator acc = new GradientAccumulator(m, 3)) {
            acc.add(Map.of("a", m.create(new float[] {3f, 6f}), "b", m.create(new float[] {1f})));
            assertFalse(acc.ready());
            acc.add(Map.of("a", m.create(new float[] {0f, -3f}), "b", m.create(new float[] {2f})));
            acc.add(Map.of("a", m.create(new float[] {6f, 0f}), "b", m.create(new float[] {3f})));
            assertTrue(acc.ready());
            assertEquals(List.of(3f, 1f), toList(acc.gradients().get("a")));
            assertEquals(List.of(2f), toList(acc.gradients().get("b")));
            assertThrows(IllegalStateException.class, () -> acc.add(Map.of("b", m.create(new float[] {1f}))));
            acc.reset();
            assertEquals(0, acc.added());
            assertEquals(List.of(0f, 0f), toList(acc.gradients().get("a")));
        }
    }

    @Test
    void zeroClearsAccumulatedEngineGradientsEvenWhenNotFinite() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1f, 0f});
            w.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(w.sqrt().sum()); // d/dw sqrt(w) at 0 is inf
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(w.sum()); // the engine adds this onto the first gradient
            }
            assertEquals(1.5f, w.getGradient().toFloatArray()[0], 1e-6);
            Gradients.zero(List.of(w));
            assertEquals(List.of(0f, 0f), toList(w.getGradient()));
        }
    }

    private static List<Float> toList(NDArray a) {
        float[] f = a.toFloatArray();
        Float[] boxed = new Float[f.length];
        for (int i = 0; i < f.length; i++) {
            boxed[i] = f[i];
        }
        return List.of(boxed);
    }
}
