package dev.loku.core.data;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.tensor.Tensors;
import java.util.List;

/** Pads encoded examples on the right to the longest one and stacks them into a {@link TokenBatch}. */
public final class BatchCollator {

    private BatchCollator() {
    }

    /**
     * @param padId the id written into padding positions (masked everywhere, so any valid id works)
     * @param manager where the three arrays are created
     */
    public static TokenBatch collate(List<EncodedExample> examples, int padId, NDManager manager) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("cannot collate an empty batch");
        }
        int b = examples.size();
        int t = examples.stream().mapToInt(EncodedExample::length).max().orElseThrow();
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] labels = new long[b * t];
        for (int i = 0; i < b; i++) {
            EncodedExample e = examples.get(i);
            for (int j = 0; j < t; j++) {
                int at = i * t + j;
                boolean inside = j < e.length();
                ids[at] = inside ? e.inputIds()[j] : padId;
                mask[at] = j < e.attendedLength() ? 1 : 0;
                labels[at] = inside ? e.labels()[j] : CausalLmLoss.IGNORE_INDEX;
            }
        }
        Shape shape = new Shape(b, t);
        return new TokenBatch(Tensors.of(manager, ids, shape), Tensors.of(manager, mask, shape),
                Tensors.of(manager, labels, shape));
    }
}
