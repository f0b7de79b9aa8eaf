package dev.loku.core.fila;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;

/**
 * Randomised truncated SVD (Halko, Martinsson and Tropp's range finder), the method behind the reference's
 * {@code torch.svd_lowrank(M, q=r, niter=2)} (docs/method.md §2.4 step 3):
 * <ol>
 *   <li>Ω: k × q Gaussian sketch, q = r + oversampling (capped at min(d, k)), drawn from {@code java.util.Random}
 *       with the seed, so the result is reproducible on any engine;</li>
 *   <li>Q = orth(M Ω), then {@code powerIterations} times Q = orth(M · orth(Mᵀ Q)), re-orthonormalising at each
 *       half step as torch does;</li>
 *   <li>B = Qᵀ M (q × k), exact SVD B = Û S Vᵀ, U = Q Û, keep the top r.</li>
 * </ol>
 * The products with M and the orthonormalisations of the thin d × q / k × q blocks (CholeskyQR2, {@link
 * Ejml#orthonormalColumns}) run in libtorch, the q × q factorisations and the SVD of B in EJML.
 * With oversampling 0 the sketch size equals torch's {@code q = r}; the default oversampling of 10 is more accurate.
 */
public final class RandomizedSvd implements TruncatedSvd {

    public static final int DEFAULT_OVERSAMPLING = 10;
    public static final int DEFAULT_POWER_ITERATIONS = 2;

    private final int oversampling;
    private final int powerIterations;
    private final long seed;

    public RandomizedSvd(int oversampling, int powerIterations, long seed) {
        if (oversampling < 0 || powerIterations < 0) {
            throw new IllegalArgumentException("oversampling and power iterations must be >= 0");
        }
        this.oversampling = oversampling;
        this.powerIterations = powerIterations;
        this.seed = seed;
    }

    @Override
    public SvdFactors decompose(NDArray matrix, int rank) {
        checkRank(matrix, rank);
        long d = matrix.getShape().get(0);
        long k = matrix.getShape().get(1);
        int q = (int) Math.min(rank + (long) oversampling, Math.min(d, k));
        NDManager manager = matrix.getManager();
        try (TensorScope scope = new TensorScope()) {
            NDArray m = matrix.toType(DataType.FLOAT32, false);
            NDArray mt = m.transpose();
            NDArray sketch = gaussian(manager, k, q, seed);
            NDArray q32 = Ejml.orthonormalColumns(manager, m.matMul(sketch));
            for (int i = 0; i < powerIterations; i++) {
                NDArray rowBasis = Ejml.orthonormalColumns(manager, mt.matMul(q32));
                q32 = Ejml.orthonormalColumns(manager, m.matMul(rowBasis));
            }
            Ejml.Result small = Ejml.svd(Ejml.toMatrix(q32.transpose().matMul(m)), rank);
            NDArray u = q32.matMul(Ejml.toNd(manager, small.u()));
            return new SvdFactors(scope.keep(u), scope.keep(vector(manager, small.s())),
                    scope.keep(Ejml.toNd(manager, small.v())));
        }
    }

    private static NDArray gaussian(NDManager manager, long rows, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] data = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rnd.nextGaussian();
        }
        return Tensors.of(manager, data, new Shape(rows, cols));
    }

    static NDArray vector(NDManager manager, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Tensors.of(manager, f);
    }

    static void checkRank(NDArray matrix, int rank) {
        if (matrix.getShape().dimension() != 2) {
            throw new IllegalArgumentException("SVD needs a 2-D matrix, got " + matrix.getShape());
        }
        long smaller = Math.min(matrix.getShape().get(0), matrix.getShape().get(1));
        if (rank < 1 || rank > smaller) {
            throw new IllegalArgumentException("rank " + rank + " is outside 1.." + smaller + " for a "
                    + matrix.getShape() + " matrix");
        }
    }
}
