package dev.loku.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.fila.ExactSvd;
import dev.loku.core.fila.SvdFactors;
import dev.loku.core.fila.TruncatedSvd;
import dev.loku.core.tensor.TensorScope;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * FILA's SVD fallbacks (used when EJML's SVD does not converge) give the same rank-r factors as the exact SVD, on
 * tall and wide matrices whose rows are scaled over six orders of magnitude like Fisher-weighted weights.
 */
class FallbackSvdTest {

    private static final int RANK = 4;

    @Test
    void gramFallbackMatchesTheExactSvd() {
        TruncatedSvd alwaysFails = (m, r) -> {
            throw new IllegalStateException("SVD did not converge");
        };
        for (int[] shape : new int[][] {{40, 24}, {24, 40}, {32, 32}}) {
            compare(new FallbackSvd(alwaysFails), shape[0], shape[1]);
        }
    }

    @Test
    void transposeRetryMatchesTheExactSvd() {
        AtomicInteger calls = new AtomicInteger();
        TruncatedSvd failsOnce = (m, r) -> {
            if (calls.getAndIncrement() == 0) {
                throw new IllegalStateException("SVD did not converge");
            }
            return new ExactSvd().decompose(m, r);
        };
        compare(new FallbackSvd(failsOnce), 40, 24);
        assertEquals(2, calls.get(), "the second call is the one on the transpose");
    }

    private static void compare(TruncatedSvd svd, int d, int k) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray matrix = m.create(weighted(d, k, d * 31L + k), new Shape(d, k));
            TensorScope.run(() -> {
                try (SvdFactors exact = new ExactSvd().decompose(matrix, RANK);
                        SvdFactors got = svd.decompose(matrix, RANK)) {
                    assertEquals(new Shape(d, RANK), got.u().getShape());
                    assertEquals(new Shape(k, RANK), got.v().getShape());
                    float[] se = exact.s().toFloatArray();
                    float[] sg = got.s().toFloatArray();
                    for (int i = 0; i < RANK; i++) {
                        assertEquals(se[i], sg[i], 1e-4 * se[0], "singular value " + i);
                    }
                    // Singular vectors are defined up to sign; the rank-r reconstruction is not.
                    float[] re = exact.u().mul(exact.s().reshape(1, RANK)).matMul(exact.v().transpose()).toFloatArray();
                    float[] rg = got.u().mul(got.s().reshape(1, RANK)).matMul(got.v().transpose()).toFloatArray();
                    assertTrue(Stories.maxAbsDiff(re, rg) <= 1e-4 * Stories.maxAbs(re),
                            d + "x" + k + ": reconstructions differ by " + Stories.maxAbsDiff(re, rg));
                    float[] gram = got.u().transpose().matMul(got.u()).toFloatArray();
                    for (int i = 0; i < RANK; i++) {
                        for (int j = 0; j < RANK; j++) {
                            assertEquals(i == j ? 1 : 0, gram[i * RANK + j], 1e-4, "UᵀU");
                        }
                    }
                }
            });
        }
    }

    /** Gaussian entries, row i scaled by 10^(uniform in [-3, 3]), a spread like sqrt of relative Fisher rows. */
    private static float[] weighted(int d, int k, long seed) {
        Random r = new Random(seed);
        float[] out = new float[d * k];
        for (int i = 0; i < d; i++) {
            double w = Math.pow(10, r.nextDouble() * 6 - 3);
            for (int j = 0; j < k; j++) {
                out[i * k + j] = (float) (w * r.nextGaussian());
            }
        }
        return out;
    }
}
