package dev.loku.core.fisher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.loku.core.train.Gradients;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FisherTest {

    @Test
    void labelTokensAreCountedOnUnshiftedLabels() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray labels = m.create(new long[] {-100, -100, 5, 6, 2, -100, -100, 7, -100, -100}, new Shape(2, 5));
            assertEquals(4, FisherAccumulator.labelTokenCount(labels));
        }
    }

    @Test
    void sumsAreTokenWeightedSquaredBatchGradientsKeptApartForForgetAndRetain() {
        try (NDManager m = NDManager.newBaseManager(); FisherAccumulator acc = new FisherAccumulator(m)) {
            acc.addForget(Map.of("q", m.create(new float[] {1f, -2f}), "k", m.create(new float[] {0.5f})), 3);
            acc.addForget(Map.of("q", m.create(new float[] {3f, 1f}), "k", m.create(new float[] {-1f})), 5);
            acc.addRetain(Map.of("q", m.create(new float[] {2f, 0f}), "k", m.create(new float[] {1f})), 4);
            try (FisherImportance imp = acc.finish(Map.of(FisherImportance.MODEL_SHA256, "abc"))) {
                // F_f[q] = 3*(1,4) + 5*(9,1) = (48, 17); N_f = 8. F_r[q] = 4*(4,0) = (16, 0); N_r = 4.
                assertArrayEquals(new float[] {48f, 17f}, imp.forgetSum("q").toFloatArray(), 1e-6f);
                assertArrayEquals(new float[] {3 * 0.25f + 5f}, imp.forgetSum("k").toFloatArray(), 1e-6f);
                assertArrayEquals(new float[] {16f, 0f}, imp.retainSum("q").toFloatArray(), 1e-6f);
                assertEquals(8, imp.forgetCount());
                assertEquals(4, imp.retainCount());
                assertArrayEquals(new float[] {6f, 17f / 8}, imp.forgetMean("q").toFloatArray(), 1e-6f);
                assertArrayEquals(new float[] {4f, 0f}, imp.retainMean("q").toFloatArray(), 1e-6f);
                // F_rel = (6, 2.125) / (1e-5 + (4, 0))
                float[] rel = imp.relative("q").toFloatArray();
                assertEquals(6 / (4 + 1e-5), rel[0], 1e-5);
                assertEquals(2.125 / 1e-5, rel[1], 1.0);
                assertEquals("abc", imp.metadata().get(FisherImportance.MODEL_SHA256));
                assertEquals("8", imp.metadata().get("f_cnt"));
                assertEquals("4", imp.metadata().get("r_cnt"));
            }
        }
    }

    @Test
    void worksWithEngineGradientsAcrossMicroBatches() {
        // loss_b = sum(c_b * w), so g_b = c_b exactly; zeroing between batches is the caller's job.
        try (NDManager m = NDManager.newBaseManager(); FisherAccumulator acc = new FisherAccumulator(m)) {
            NDArray w = m.create(new float[] {0.3f, -0.7f});
            w.setRequiresGradient(true);
            float[][] c = {{1f, 2f}, {-1f, 3f}};
            long[] n = {2, 6};
            for (int b = 0; b < 2; b++) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(w.mul(m.create(c[b])).sum());
                }
                try (NDArray g = w.getGradient()) {
                    acc.addForget(Map.of("w", g), n[b]);
                    acc.addRetain(Map.of("w", g), 1);
                }
                Gradients.zero(List.of(w));
            }
            try (FisherImportance imp = acc.finish(Map.of())) {
                assertArrayEquals(new float[] {2 * 1 + 6 * 1, 2 * 4 + 6 * 9}, imp.forgetSum("w").toFloatArray(),
                        1e-5f);
                assertArrayEquals(new float[] {2, 13}, imp.retainSum("w").toFloatArray(), 1e-5f);
            }
        }
    }

    @Test
    void tensorsAndMetadataRoundTrip() {
        try (NDManager m = NDManager.newBaseManager()) {
            FisherAccumulator acc = new FisherAccumulator(m);
            acc.addForget(Map.of("layers.0.q_proj.weight", m.create(new float[] {1f, 2f, 3f, 4f}, new Shape(2, 2))), 2);
            acc.addRetain(Map.of("layers.0.q_proj.weight", m.create(new float[] {1f, 1f, 1f, 1f}, new Shape(2, 2))), 1);
            try (FisherImportance imp = acc.finish(Map.of(FisherImportance.FORGET_SHA256, "f00"))) {
                Map<String, NDArray> tensors = imp.tensors();
                assertEquals(List.of("importance_f.layers.0.q_proj.weight", "importance_r.layers.0.q_proj.weight"),
                        List.copyOf(tensors.keySet()));
                assertEquals("importance_f.layers.0.q_proj.weight",
                        tensors.get("importance_f.layers.0.q_proj.weight").getName());
                try (FisherImportance back = FisherImportance.fromTensors(m, tensors, imp.metadata())) {
                    assertEquals(imp.names(), back.names());
                    assertEquals(2, back.forgetCount());
                    assertEquals(1, back.retainCount());
                    assertEquals("f00", back.metadata().get(FisherImportance.FORGET_SHA256));
                    assertArrayEquals(imp.relative("layers.0.q_proj.weight").toFloatArray(),
                            back.relative("layers.0.q_proj.weight").toFloatArray());
                }
                assertThrows(IllegalArgumentException.class,
                        () -> FisherImportance.fromTensors(m, tensors, Map.of("format", "other")));
            }
        }
    }

    @Test
    void mismatchedCoverageOrEmptySidesAreRefused() {
        try (NDManager m = NDManager.newBaseManager(); FisherAccumulator acc = new FisherAccumulator(m)) {
            acc.addForget(Map.of("a", m.create(new float[] {1f})), 1);
            acc.addRetain(Map.of("b", m.create(new float[] {1f})), 1);
            assertThrows(IllegalStateException.class, () -> acc.finish(Map.of()));
        }
        try (NDManager m = NDManager.newBaseManager(); FisherAccumulator acc = new FisherAccumulator(m)) {
            acc.addForget(Map.of("a", m.create(new float[] {1f})), 1);
            acc.addRetain(Map.of("a", m.create(new float[] {1f})), 0);
            assertThrows(IllegalStateException.class, () -> acc.finish(Map.of()));
            assertThrows(IllegalArgumentException.class,
                    () -> acc.addForget(Map.of("a", m.create(new float[] {1f, 2f})), 1));
        }
    }
}
