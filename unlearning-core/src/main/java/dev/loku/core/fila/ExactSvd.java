package dev.loku.core.fila;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** Deterministic truncated SVD through EJML's dense SVD in double precision (docs/method.md §2.4 step 3, §8.15). */
public final class ExactSvd implements TruncatedSvd {

    @Override
    public SvdFactors decompose(NDArray matrix, int rank) {
        RandomizedSvd.checkRank(matrix, rank);
        Ejml.Result r = Ejml.svd(Ejml.toMatrix(matrix), rank);
        NDManager m = matrix.getManager();
        return new SvdFactors(Ejml.toNd(m, r.u()), RandomizedSvd.vector(m, r.s()), Ejml.toNd(m, r.v()));
    }
}
