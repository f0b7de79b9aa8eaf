package dev.loku.core.fila;

import ai.djl.ndarray.NDArray;

/**
 * A rank-r singular value decomposition M ≈ U diag(S) Vᵀ with singular values in descending order, fp32, in the
 * layout of {@code torch.svd_lowrank}: {@code u} [d, r], {@code s} [r], {@code v} [k, r].
 */
public record SvdFactors(NDArray u, NDArray s, NDArray v) implements AutoCloseable {

    public int rank() {
        return (int) s.getShape().get(0);
    }

    @Override
    public void close() {
        u.close();
        s.close();
        v.close();
    }
}
