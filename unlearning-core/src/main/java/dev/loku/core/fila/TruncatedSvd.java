package dev.loku.core.fila;

import ai.djl.ndarray.NDArray;

/** A rank-r SVD of a 2-D matrix (docs/method.md §2.4 step 3). DJL has none, so implementations use EJML and libtorch. */
public interface TruncatedSvd {

    /**
     * @param matrix [d, k]
     * @param rank r, at most min(d, k)
     * @return factors attached to the matrix's manager
     */
    SvdFactors decompose(NDArray matrix, int rank);

    /**
     * Exact SVD for matrices whose smaller side is at most {@code exactUpTo}, randomised (with the given seed)
     * beyond: exact is deterministic and at least as accurate (§8.15) but costs O(d·k·min(d, k)) in plain Java.
     */
    static TruncatedSvd auto(int exactUpTo, long seed) {
        ExactSvd exact = new ExactSvd();
        RandomizedSvd randomized = new RandomizedSvd(RandomizedSvd.DEFAULT_OVERSAMPLING,
                RandomizedSvd.DEFAULT_POWER_ITERATIONS, seed);
        return (matrix, rank) -> {
            long smaller = Math.min(matrix.getShape().get(0), matrix.getShape().get(1));
            return smaller <= exactUpTo ? exact.decompose(matrix, rank) : randomized.decompose(matrix, rank);
        };
    }

    /** {@link #auto(int, long)} with exact SVD up to 512 and the reference's seed 42 (§3.1). */
    static TruncatedSvd auto() {
        return auto(512, 42);
    }
}
