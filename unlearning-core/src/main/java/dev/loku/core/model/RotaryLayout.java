package dev.loku.core.model;

import ai.djl.ndarray.NDArray;

/**
 * How a checkpoint pairs the dimensions of each attention head for rotary position embeddings. The same trained
 * model exists in both layouts; only the order of q/k output rows differs.
 *
 * <ul>
 *   <li>{@link #INTERLEAVED}: Meta's and llama2.c's layout; dimensions (2i, 2i+1) of a head rotate together.</li>
 *   <li>{@link #HALF}: Hugging Face's {@code rotate_half}; dimensions (i, i + d/2) rotate together. HF's converter
 *       permutes q_proj and k_proj rows so a Meta checkpoint gives the same outputs in this layout.</li>
 * </ul>
 * Both use angle {@code position * theta^(-2i/d)} for pair i.
 */
public enum RotaryLayout {
    INTERLEAVED,
    HALF;

    /**
     * Reorders the rows of a q or k projection (or anything whose rows are a projection's outputs, such as a LoRA
     * B matrix) from the interleaved to the half layout: within each head, row 2i + c moves to c*d/2 + i. This is
     * the permutation transformers' {@code convert_llama_weights_to_hf.py} applies. The result is a new array in
     * {@code rows}' manager.
     */
    public static NDArray interleavedToHalf(NDArray rows, int numHeads) {
        return permute(rows, numHeads, true);
    }

    /** The inverse of {@link #interleavedToHalf}. */
    public static NDArray halfToInterleaved(NDArray rows, int numHeads) {
        return permute(rows, numHeads, false);
    }

    private static NDArray permute(NDArray rows, int numHeads, boolean toHalf) {
        long out = rows.getShape().get(0);
        long rest = rows.size() / out;
        long headDim = out / numHeads;
        if (out % numHeads != 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("cannot split " + out + " rows into " + numHeads
                    + " heads of even size");
        }
        NDArray r = rows.reshape(numHeads, toHalf ? headDim / 2 : 2, toHalf ? 2 : headDim / 2, rest);
        return r.transpose(0, 2, 1, 3).reshape(rows.getShape());
    }
}
