package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.loku.core.tensor.Tensors;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link DecoderModel#linear}, which takes a product of few rows as {@code (W·xᵀ)ᵀ} or as libtorch's {@code linear},
 * whichever it timed faster for that shape, and of many as libtorch's {@code linear}: what it returns and the
 * {@code (W·xᵀ)ᵀ} form itself against a product summed in double precision in Java, the gradients of that form
 * against those of libtorch's {@code linear}, the result's memory owned by the input's scope, not the weights', and
 * the choice made once per few-row shape and kept.
 */
class FewRowsLinearTest {
    private static final int IN = 48;
    private static final int OUT = 80;

    @Test
    void bothPathsEqualTheProductSummedInDouble() {
        Random random = new Random(7);
        float[] w = randoms(random, OUT * IN);
        float[] b = randoms(random, OUT);
        long[][] shapes = {{1, IN}, {3, 1, IN}, {4, 2, IN}, {DecoderModel.FEW_ROWS, IN}, {5, 8, IN}};
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = NDManager.newBaseManager()) {
            NDArray weight = Tensors.of(weights, w, new Shape(OUT, IN));
            NDArray bias = Tensors.of(weights, b, new Shape(OUT));
            for (long[] dims : shapes) {
                Shape shape = new Shape(dims);
                int rows = (int) (shape.size() / IN);
                float[] x = randoms(random, rows * IN);
                NDArray input = Tensors.of(scope, x, shape);
                int before = weights.getManagedArrays().size();
                NDArray[][] results = {
                    {DecoderModel.linear(input, weight, bias), DecoderModel.linear(input, weight, null)},
                    {DecoderModel.transposedLinear(input, weight, bias),
                        DecoderModel.transposedLinear(input, weight, null)}};
                assertEquals(before, weights.getManagedArrays().size(), "results landed in the weights' manager");
                for (NDArray[] pair : results) {
                    assertEquals(shape.slice(0, shape.dimension() - 1).add(OUT), pair[0].getShape());
                    float[] got = pair[0].toFloatArray();
                    float[] gotPlain = pair[1].toFloatArray();
                    for (int r = 0; r < rows; r++) {
                        for (int o = 0; o < OUT; o++) {
                            double sum = 0;
                            for (int i = 0; i < IN; i++) {
                                sum += (double) x[r * IN + i] * w[o * IN + i];
                            }
                            assertEquals(sum + b[o], got[r * OUT + o], 1e-4, shape + " row " + r + " out " + o);
                            assertEquals(sum, gotPlain[r * OUT + o], 1e-4, shape + " row " + r + " out " + o);
                        }
                    }
                }
                if (rows <= DecoderModel.FEW_ROWS && "auto".equals(DecoderModel.FEW_ROWS_FORM)) {
                    Boolean chosen = DecoderModel.transposedFasterFor(rows, IN, OUT);
                    assertNotNull(chosen, "no form was timed and kept for " + rows + " rows");
                    DecoderModel.linear(input, weight, bias);
                    assertEquals(chosen, DecoderModel.transposedFasterFor(rows, IN, OUT), "the choice changed");
                } else if (rows > DecoderModel.FEW_ROWS) {
                    assertNull(DecoderModel.transposedFasterFor(rows, IN, OUT), "many rows were timed");
                }
            }
        }
    }

    @Test
    void fewRowsGradientsEqualLibtorchLinears() {
        Random random = new Random(11);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray weight = Tensors.of(m, randoms(random, OUT * IN), new Shape(OUT, IN));
            NDArray bias = Tensors.of(m, randoms(random, OUT), new Shape(OUT));
            NDArray x = Tensors.of(m, randoms(random, 3 * IN), new Shape(3, 1, IN));
            NDArray upstream = Tensors.of(m, randoms(random, 3 * OUT), new Shape(3, 1, OUT));
            float[][] few = gradients(x, weight, bias, upstream, true);
            float[][] libtorch = gradients(x, weight, bias, upstream, false);
            for (int k = 0; k < few.length; k++) {
                assertArrayEquals(libtorch[k], few[k], 1e-5f, "gradient " + k);
            }
        }
    }

    /** Gradients of {@code sum(linear(x) * upstream)} for x, W and b, through {@code (W·xᵀ)ᵀ} or libtorch's. */
    private static float[][] gradients(NDArray x, NDArray weight, NDArray bias, NDArray upstream, boolean fewRows) {
        try (NDManager scope = x.getManager().newSubManager()) {
            // Fresh leaves for each call: libtorch adds gradients into a leaf's existing ones.
            NDArray[] leaves = {x.duplicate(), weight.duplicate(), bias.duplicate()};
            for (NDArray leaf : leaves) {
                leaf.attach(scope);
                leaf.setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = fewRows ? DecoderModel.transposedLinear(leaves[0], leaves[1], leaves[2])
                        : ai.djl.nn.core.Linear.linear(leaves[0], leaves[1], leaves[2]).singletonOrThrow();
                gc.backward(y.mul(upstream).sum());
            }
            float[][] out = new float[leaves.length][];
            for (int k = 0; k < leaves.length; k++) {
                out[k] = leaves[k].getGradient().toFloatArray();
            }
            return out;
        }
    }

    private static float[] randoms(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
