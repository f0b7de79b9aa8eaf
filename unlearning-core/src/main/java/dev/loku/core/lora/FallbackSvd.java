package dev.loku.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.fila.SvdFactors;
import dev.loku.core.fila.TruncatedSvd;
import dev.loku.core.tensor.Tensors;
import java.util.Arrays;
import java.util.Comparator;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * The truncated SVD FILA runs on every targeted weight (docs/method.md §2.4 step 3), with fallbacks for a matrix on
 * which EJML's implicit-QR SVD reports that it did not converge, so that one hard weight does not abort a whole
 * unlearning job. (The non-convergence first seen in this project came from NaN input, fixed at its source in
 * {@link dev.loku.core.fisher.FisherImportance#fromTensors}; {@link LoraModel#attachFila} now rejects non-finite
 * importances before any SVD runs.) In order:
 * <ol>
 *   <li>the primary SVD on M;</li>
 *   <li>the primary SVD on Mᵀ (= V S Uᵀ: another bidiagonalisation, which converges where the first did not);</li>
 *   <li>the symmetric eigen-decomposition of the smaller Gram matrix (MᵀM or MMᵀ, in double precision): its top r
 *       eigenpairs give V (or U) and S = √λ, and U = M V / S. It loses accuracy only for singular values far
 *       below the largest (relative error about ε·σ₁²/σᵢ²), which is harmless for the top-r factors FILA
 *       keeps.</li>
 * </ol>
 */
final class FallbackSvd implements TruncatedSvd {

    private final TruncatedSvd primary;

    FallbackSvd(TruncatedSvd primary) {
        this.primary = primary;
    }

    @Override
    public SvdFactors decompose(NDArray matrix, int rank) {
        try {
            return primary.decompose(matrix, rank);
        } catch (IllegalStateException first) {
            try {
                NDArray transposed = matrix.transpose();
                SvdFactors t = primary.decompose(transposed, rank);
                return new SvdFactors(t.v(), t.s(), t.u());
            } catch (IllegalStateException second) {
                return gram(matrix, rank);
            }
        }
    }

    /** Rank-r SVD from the eigen-decomposition of the smaller Gram matrix; factors in {@code matrix}'s manager. */
    static SvdFactors gram(NDArray matrix, int rank) {
        int d = (int) matrix.getShape().get(0);
        int k = (int) matrix.getShape().get(1);
        if (rank < 1 || rank > Math.min(d, k)) {
            throw new IllegalArgumentException("rank " + rank + " is outside 1.." + Math.min(d, k));
        }
        float[] f = matrix.toFloatArray();
        double[] data = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            data[i] = f[i];
        }
        DMatrixRMaj m = DMatrixRMaj.wrap(d, k, data);
        boolean wide = k > d; // eigen-decompose the smaller side: MMᵀ for wide matrices, MᵀM otherwise
        DMatrixRMaj g = new DMatrixRMaj(wide ? d : k, wide ? d : k);
        if (wide) {
            CommonOps_DDRM.multTransB(m, m, g);
        } else {
            CommonOps_DDRM.multTransA(m, m, g);
        }
        int n = g.numRows;
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(g)) {
            throw new IllegalStateException("no SVD method converged on a " + d + "x" + k + " matrix");
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> eig.getEigenvalue(i).getReal()).reversed());

        // The Gram side's singular vectors come from the eigenvectors, the other side's from M times them.
        double[] s = new double[rank];
        DMatrixRMaj gramSide = new DMatrixRMaj(n, rank);
        for (int c = 0; c < rank; c++) {
            s[c] = Math.sqrt(Math.max(eig.getEigenvalue(order[c]).getReal(), 0));
            DMatrixRMaj vec = eig.getEigenVector(order[c]);
            double norm = CommonOps_DDRM.elementSumAbs(vec) == 0 ? 0 : Math.sqrt(CommonOps_DDRM.dot(vec, vec));
            for (int i = 0; i < n; i++) {
                gramSide.set(i, c, norm == 0 ? 0 : vec.get(i) / norm);
            }
        }
        DMatrixRMaj other = new DMatrixRMaj(wide ? k : d, rank);
        if (wide) {
            CommonOps_DDRM.multTransA(m, gramSide, other); // V = Mᵀ U / S
        } else {
            CommonOps_DDRM.mult(m, gramSide, other); // U = M V / S
        }
        for (int c = 0; c < rank; c++) {
            for (int i = 0; i < other.numRows; i++) {
                other.set(i, c, s[c] > 0 ? other.get(i, c) / s[c] : 0);
            }
        }
        NDManager manager = matrix.getManager();
        NDArray u = toNd(manager, wide ? gramSide : other);
        NDArray v = toNd(manager, wide ? other : gramSide);
        float[] sf = new float[rank];
        for (int i = 0; i < rank; i++) {
            sf[i] = (float) s[i];
        }
        return new SvdFactors(u, Tensors.of(manager, sf), v);
    }

    private static NDArray toNd(NDManager manager, DMatrixRMaj m) {
        float[] f = new float[m.getNumElements()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) m.data[i];
        }
        return Tensors.of(manager, f, new Shape(m.numRows, m.numCols));
    }
}
