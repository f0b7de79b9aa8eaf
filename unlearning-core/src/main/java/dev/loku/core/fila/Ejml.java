package dev.loku.core.fila;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/** Moving small matrices between NDArrays and EJML, and the two EJML factorisations FILA needs. */
final class Ejml {

    private Ejml() {
    }

    static DMatrixRMaj toMatrix(NDArray a) {
        Shape shape = a.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("expected a 2-D matrix, got " + shape);
        }
        double[] data = TensorScope.call(() -> a.toType(DataType.FLOAT64, false).toDoubleArray());
        return DMatrixRMaj.wrap((int) shape.get(0), (int) shape.get(1), data);
    }

    /** An fp32 NDArray copy of {@code m}, attached to {@code manager}. */
    static NDArray toNd(NDManager manager, DMatrixRMaj m) {
        float[] f = new float[m.getNumElements()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) m.data[i];
        }
        return Tensors.of(manager, f, new Shape(m.numRows, m.numCols));
    }

    /** Largest |QᵀQ − I| entry accepted from CholeskyQR2 before falling back to Householder QR. */
    static final double ORTHONORMALITY_TOLERANCE = 1e-6;

    /**
     * An orthonormal basis of the columns of a tall {@code y} [d, q], fp32, attached to {@code manager}: CholeskyQR2
     * in double precision (G = YᵀY, G = RᵀR, Y ← Y·R⁻¹, twice), so the two [d, q] products run in libtorch and only
     * the q × q factorisations in EJML. Where a Gram matrix is not positive definite (Y of lower rank than q, or too
     * ill-conditioned for double) or the result is not orthonormal to {@link #ORTHONORMALITY_TOLERANCE}, the thin Q
     * of EJML's Householder QR instead ({@link #orthonormalBasis(DMatrixRMaj)}). The basis spans the same columns
     * either way; the SVD built on it does not depend on which one it is, up to rounding.
     */
    static NDArray orthonormalColumns(NDManager manager, NDArray y) {
        try (TensorScope scope = new TensorScope()) {
            NDArray q = y.toType(DataType.FLOAT64, false);
            for (int pass = 0; pass < 2 && q != null; pass++) {
                q = choleskyStep(manager, q);
            }
            if (q != null && orthonormal(q)) {
                return scope.keep(q.toType(DataType.FLOAT32, false));
            }
            return scope.keep(toNd(manager, orthonormalBasis(toMatrix(y))));
        }
    }

    /** Y·R⁻¹ with G = YᵀY = RᵀR, in Y's scope; null when G is not positive definite. */
    private static NDArray choleskyStep(NDManager manager, NDArray q) {
        DMatrixRMaj gram = toMatrix(q.transpose().matMul(q));
        CholeskyDecomposition_F64<DMatrixRMaj> chol = DecompositionFactory_DDRM.chol(gram.numRows, false);
        if (!chol.decompose(gram)) {
            return null;
        }
        DMatrixRMaj r = chol.getT(null);
        DMatrixRMaj inverse = new DMatrixRMaj(r.numRows, r.numCols);
        if (!CommonOps_DDRM.invert(r, inverse)) {
            return null;
        }
        for (double v : inverse.data) {
            if (!Double.isFinite(v)) {
                return null;
            }
        }
        return q.matMul(Tensors.of(manager, inverse.data, new Shape(r.numRows, r.numRows)));
    }

    private static boolean orthonormal(NDArray q) {
        DMatrixRMaj gram = toMatrix(q.transpose().matMul(q));
        for (int i = 0; i < gram.numRows; i++) {
            for (int j = 0; j < gram.numCols; j++) {
                double v = gram.get(i, j) - (i == j ? 1 : 0);
                if (!(Math.abs(v) <= ORTHONORMALITY_TOLERANCE)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Thin Q of the QR decomposition: an orthonormal basis of the columns of a tall {@code m}. */
    static DMatrixRMaj orthonormalBasis(DMatrixRMaj m) {
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(m.numRows, m.numCols);
        if (!qr.decompose(m.copy())) {
            throw new IllegalStateException("QR decomposition failed");
        }
        return qr.getQ(null, true);
    }

    /** Compact SVD sorted by descending singular value, truncated to {@code rank}. */
    static Result svd(DMatrixRMaj m, int rank) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(m.numRows, m.numCols, true, true, true);
        if (!svd.decompose(m.copy())) {
            throw new IllegalStateException("SVD did not converge on a " + m.numRows + "x" + m.numCols + " matrix");
        }
        DMatrixRMaj u = svd.getU(null, false);
        DMatrixRMaj w = svd.getW(null);
        DMatrixRMaj v = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(u, false, w, v, false);
        double[] s = new double[rank];
        for (int i = 0; i < rank; i++) {
            s[i] = w.get(i, i);
        }
        return new Result(CommonOps_DDRM.extract(u, 0, u.numRows, 0, rank), s,
                CommonOps_DDRM.extract(v, 0, v.numRows, 0, rank));
    }

    record Result(DMatrixRMaj u, double[] s, DMatrixRMaj v) {
    }
}
