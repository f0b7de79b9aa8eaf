package dev.loku.core.fila;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.tensor.TensorScope;
import java.util.Objects;

/**
 * Fisher-weighted initialisation of LoRA adapters (docs/method.md §2.1, §2.4), all in fp32. For a weight W [d, k] with
 * relative importance F_rel, rank r and scaling s = alpha / r:
 * <pre>
 *   w  = sqrt(row sums of F_rel)                 one weight per output row (§8.4)
 *   M  = diag(w) · W ;  (U, S, V) = rank-r SVD of M
 *   S' = S / s                                   before splitting √S' between A and B (§8.5)
 *   A₀ = (V · diag(√S'))ᵀ                        [r, k]
 *   B₀ = diag(1 / (w + 1e-5)) · U · diag(√S')    [d, r]
 *   W_res = W − s · B₀ A₀                        not W − B₀A₀ (§8.5)
 * </pre>
 * s·B₀A₀ = diag(1/(w+1e-5)) U S Vᵀ is the best rank-r approximation of W under the row weighting, up to the 1e-5.
 */
public final class FilaInitializer {

    /** Added to the row weights before inverting them for B₀ (§2.4 step 6). */
    public static final double ROW_WEIGHT_EPSILON = 1e-5;

    private final TruncatedSvd svd;

    public FilaInitializer(TruncatedSvd svd) {
        this.svd = Objects.requireNonNull(svd, "svd");
    }

    /**
     * @param weight W, [d_out, k_in], any float type (the result is fp32; cast W_res back to the model's type)
     * @param relativeImportance F_rel of the same shape ({@link RelativeImportance#of})
     * @param rank r
     * @param alpha LoRA alpha; the reference uses alpha = 2r, so s = 2 (§2.5)
     * @return factors attached to the manager of {@code weight}
     */
    public FilaFactors initialize(NDArray weight, NDArray relativeImportance, int rank, double alpha) {
        if (!weight.getShape().equals(relativeImportance.getShape())) {
            throw new IllegalArgumentException("relative importance " + relativeImportance.getShape()
                    + " does not match the weight " + weight.getShape());
        }
        try (NDArray rows = RelativeImportance.rowWeights(relativeImportance)) {
            return initializeFromRowWeights(weight, rows, rank, alpha);
        }
    }

    /**
     * {@link #initialize} from the row weights w ([d_out], {@link RelativeImportance#rowWeights}), which is all of
     * F_rel that FILA uses: the factors' row weights are a copy, so {@code rowWeights} stays the caller's.
     */
    public FilaFactors initializeFromRowWeights(NDArray weight, NDArray rowWeights, int rank, double alpha) {
        long d = weight.getShape().get(0);
        if (weight.getShape().dimension() != 2 || !rowWeights.getShape().equals(new Shape(d))) {
            throw new IllegalArgumentException("row weights " + rowWeights.getShape() + " do not match the weight "
                    + weight.getShape());
        }
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
        }
        double scaling = alpha / rank;
        try (TensorScope scope = new TensorScope()) {
            NDArray w = weight.toType(DataType.FLOAT32, false);
            NDArray rows = rowWeights.toType(DataType.FLOAT32, true);
            NDArray m = w.mul(rows.reshape(d, 1));
            try (SvdFactors f = svd.decompose(m, rank)) {
                NDArray sqrtS = f.s().div((float) scaling).sqrt().reshape(1, rank);
                NDArray a = f.v().mul(sqrtS).transpose();
                NDArray b = f.u().mul(sqrtS).div(rows.add((float) ROW_WEIGHT_EPSILON).reshape(d, 1));
                // s·B₀ first ([d, r]), so the [d, k] product is not scaled in a pass of its own.
                NDArray residual = w.sub(b.mul((float) scaling).matMul(a));
                return new FilaFactors(scope.keep(a), scope.keep(b), scope.keep(residual), scope.keep(rows),
                        scaling);
            }
        }
    }
}
