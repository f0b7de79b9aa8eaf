package dev.loku.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.tensor.Tensors;
import java.util.List;

/**
 * Token sequences padded to one length, with an attention mask (1 = real token) and a label mask (1 = this token is
 * a prediction target: it is scored given the tokens before it).
 *
 * <p>Right padding is the training layout; left padding is the generation layout. Positions come from the mask
 * (cumulative count of real tokens minus one), so a left-padded row sees the same positions as when it is alone.
 * The default label mask marks every real token that follows a real token; callers that score only an answer span
 * (TOFU QA, docs/method.md §7.2) pass their own.
 *
 * <p>This is the one micro-batch type of the engine: the model reads its ids, mask and positions, and the objectives
 * and metrics read {@link #labelsArray} (Hugging Face's labels, aligned with the inputs) built from the same rows.
 */
public final class TokenBatch {
    /** Label value at positions that take no loss (PyTorch's cross-entropy {@code ignore_index}). */
    public static final int IGNORE_INDEX = -100;

    public enum Padding {
        LEFT,
        RIGHT
    }

    private final int[][] ids;
    private final int[][] attention;
    private final int[][] labels;
    private final int[] lengths;
    private final int[] offsets;

    private TokenBatch(int[][] ids, int[][] attention, int[][] labels, int[] lengths, int[] offsets) {
        this.ids = ids;
        this.attention = attention;
        this.labels = labels;
        this.lengths = lengths;
        this.offsets = offsets;
    }

    /** Pads {@code sequences} (each at least one token) with {@code padId}. */
    public static TokenBatch of(List<int[]> sequences, Padding padding, int padId) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one sequence");
        }
        int b = sequences.size();
        int t = 0;
        for (int[] s : sequences) {
            if (s.length == 0) {
                throw new IllegalArgumentException("empty sequence in batch");
            }
            t = Math.max(t, s.length);
        }
        int[][] ids = new int[b][t];
        int[][] att = new int[b][t];
        int[][] lab = new int[b][t];
        int[] lengths = new int[b];
        int[] offsets = new int[b];
        for (int r = 0; r < b; r++) {
            int[] s = sequences.get(r);
            int off = padding == Padding.LEFT ? t - s.length : 0;
            java.util.Arrays.fill(ids[r], padId);
            for (int i = 0; i < s.length; i++) {
                ids[r][off + i] = s[i];
                att[r][off + i] = 1;
                lab[r][off + i] = i > 0 ? 1 : 0;
            }
            lengths[r] = s.length;
            offsets[r] = off;
        }
        return new TokenBatch(ids, att, lab, lengths, offsets);
    }

    /**
     * The same batch with another label mask, given per row over the row's own tokens (unpadded, same lengths as
     * the sequences). Position 0 of a row can never be a target and is ignored.
     */
    public TokenBatch withLabelMask(List<int[]> perRowMask) {
        if (perRowMask.size() != ids.length) {
            throw new IllegalArgumentException("label mask has " + perRowMask.size() + " rows, batch has "
                    + ids.length);
        }
        int[][] lab = new int[ids.length][ids[0].length];
        for (int r = 0; r < ids.length; r++) {
            int[] m = perRowMask.get(r);
            if (m.length != lengths[r]) {
                throw new IllegalArgumentException("label mask row " + r + " has " + m.length + " entries, the"
                        + " sequence has " + lengths[r]);
            }
            for (int i = 1; i < m.length; i++) {
                lab[r][offsets[r] + i] = m[i] != 0 ? 1 : 0;
            }
        }
        return new TokenBatch(ids, attention, lab, lengths, offsets);
    }

    public int size() {
        return ids.length;
    }

    /** Padded length T. */
    public int length() {
        return ids[0].length;
    }

    /** Unpadded length of row {@code r}. */
    public int rowLength(int r) {
        return lengths[r];
    }

    /** Column of row {@code r}'s first token (non-zero only with left padding). */
    public int rowOffset(int r) {
        return offsets[r];
    }

    /** The padded id matrix (a copy). */
    public int[][] ids() {
        return deepCopy(ids);
    }

    public int[][] attentionMask() {
        return deepCopy(attention);
    }

    public int[][] labelMask() {
        return deepCopy(labels);
    }

    /** Position of each column: real tokens count 0, 1, 2, ...; padding repeats a neighbour's position. */
    public long[][] positions() {
        long[][] pos = new long[ids.length][ids[0].length];
        for (int r = 0; r < ids.length; r++) {
            long seen = 0;
            for (int c = 0; c < ids[r].length; c++) {
                seen += attention[r][c];
                pos[r][c] = Math.max(0, seen - 1);
            }
        }
        return pos;
    }

    /** Number of target tokens. */
    public int targetCount() {
        int n = 0;
        for (int[] row : labels) {
            for (int v : row) {
                n += v;
            }
        }
        return n;
    }

    /** Ids as int64 {@code [B, T]}. */
    public NDArray idsArray(NDManager manager) {
        return Tensors.of(manager, flatLong(ids), new Shape(ids.length, ids[0].length));
    }

    /** Attention mask as float32 {@code [B, T]}. */
    public NDArray attentionArray(NDManager manager) {
        return Tensors.of(manager, flatFloat(attention), new Shape(ids.length, ids[0].length));
    }

    /** Label mask as float32 {@code [B, T]}: 1 where the token at that column is a target. */
    public NDArray labelMaskArray(NDManager manager) {
        return Tensors.of(manager, flatFloat(labels), new Shape(ids.length, ids[0].length));
    }

    /**
     * Hugging Face's labels as int64 {@code [B, T]}: the token id where the label mask is 1, {@link #IGNORE_INDEX}
     * elsewhere (prompt, padding, a row's first token). Not shifted: the logits at column t predict label t + 1.
     */
    public NDArray labelsArray(NDManager manager) {
        long[] out = new long[ids.length * ids[0].length];
        for (int r = 0; r < ids.length; r++) {
            for (int c = 0; c < ids[r].length; c++) {
                out[r * ids[r].length + c] = labels[r][c] != 0 ? ids[r][c] : IGNORE_INDEX;
            }
        }
        return Tensors.of(manager, out, new Shape(ids.length, ids[0].length));
    }

    NDArray positionsArray(NDManager manager) {
        long[][] p = positions();
        long[] flat = new long[ids.length * ids[0].length];
        for (int r = 0; r < p.length; r++) {
            System.arraycopy(p[r], 0, flat, r * p[r].length, p[r].length);
        }
        return Tensors.of(manager, flat, new Shape(ids.length, ids[0].length));
    }

    private static long[] flatLong(int[][] m) {
        long[] out = new long[m.length * m[0].length];
        for (int r = 0; r < m.length; r++) {
            for (int c = 0; c < m[r].length; c++) {
                out[r * m[r].length + c] = m[r][c];
            }
        }
        return out;
    }

    private static float[] flatFloat(int[][] m) {
        float[] out = new float[m.length * m[0].length];
        for (int r = 0; r < m.length; r++) {
            for (int c = 0; c < m[r].length; c++) {
                out[r * m[r].length + c] = m[r][c];
            }
        }
        return out;
    }

    private static int[][] deepCopy(int[][] m) {
        int[][] out = new int[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i].clone();
        }
        return out;
    }
}
