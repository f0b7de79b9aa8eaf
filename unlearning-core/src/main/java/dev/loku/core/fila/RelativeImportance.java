package dev.loku.core.fila;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.tensor.TensorScope;

/**
 * How much more a weight matters to the forget data than to the retain data (docs/method.md §2.3), and the per-row
 * weights FILA derives from it (§2.4 step 1).
 */
public final class RelativeImportance {

    /** The ε in the denominator of F_rel, and only there (§2.3). */
    public static final double EPSILON = 1e-5;

    private RelativeImportance() {
    }

    /**
     * F_rel = (F_f / N_f) / (ε + F_r / N_r), elementwise, same shape as the weight.
     *
     * @param forgetSum Σ n_b g_b² over forget micro-batches
     * @param forgetCount N_f, the forget label tokens
     * @param retainSum Σ n_b g_b² over retain micro-batches
     * @param retainCount N_r
     */
    public static NDArray of(NDArray forgetSum, long forgetCount, NDArray retainSum, long retainCount) {
        checkCounts(forgetCount, retainCount);
        if (!forgetSum.getShape().equals(retainSum.getShape())) {
            throw new IllegalArgumentException("forget and retain importances differ in shape: "
                    + forgetSum.getShape() + " vs " + retainSum.getShape());
        }
        try (TensorScope scope = new TensorScope()) {
            NDArray forget = forgetSum.toType(DataType.FLOAT32, false).div((float) forgetCount);
            NDArray retain = retainSum.toType(DataType.FLOAT32, false).div((float) retainCount);
            return scope.keep(forget.div(retain.add((float) EPSILON)));
        }
    }

    /**
     * w_i = sqrt(Σ_j F_rel[i, j]): one weight per <em>output row</em> of a PyTorch-layout [d_out, k_in] weight, the
     * sum running over its input columns (§2.4 step 1, §8.4).
     *
     * @return [d_out], attached to the manager of {@code relative}
     */
    public static NDArray rowWeights(NDArray relative) {
        if (relative.getShape().dimension() != 2) {
            throw new IllegalArgumentException("relative importance must be [d_out, k_in], got "
                    + relative.getShape());
        }
        try (TensorScope scope = new TensorScope()) {
            return scope.keep(relative.toType(DataType.FLOAT32, false).sum(new int[] {1}).sqrt());
        }
    }

    /**
     * The same row weights straight from the Fisher sums, without F_rel as a whole matrix: w_i =
     * sqrt((N_r / N_f) · Σ_j F_f[i, j] / (ε·N_r + F_r[i, j])), which is F_rel's row sum rearranged (equal up to float
     * rounding). Two passes over the weight's shape instead of the four of {@link #of} (FILA needs only the rows).
     *
     * @return [d_out], attached to the manager of {@code forgetSum}
     */
    public static NDArray rowWeights(NDArray forgetSum, long forgetCount, NDArray retainSum, long retainCount) {
        checkCounts(forgetCount, retainCount);
        if (!forgetSum.getShape().equals(retainSum.getShape()) || forgetSum.getShape().dimension() != 2) {
            throw new IllegalArgumentException("forget and retain importances must be [d_out, k_in] of one shape: "
                    + forgetSum.getShape() + " vs " + retainSum.getShape());
        }
        try (TensorScope scope = new TensorScope()) {
            NDArray forget = forgetSum.toType(DataType.FLOAT32, false);
            NDArray retain = retainSum.toType(DataType.FLOAT32, false);
            NDArray ratio = forget.div(retain.add((float) (EPSILON * retainCount))).sum(new int[] {1});
            return scope.keep(ratio.mul((float) ((double) retainCount / forgetCount)).sqrt());
        }
    }

    private static void checkCounts(long forgetCount, long retainCount) {
        if (forgetCount <= 0 || retainCount <= 0) {
            throw new IllegalArgumentException("Fisher token counts must be positive, got forget " + forgetCount
                    + ", retain " + retainCount);
        }
    }
}
