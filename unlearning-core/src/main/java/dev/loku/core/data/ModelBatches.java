package dev.loku.core.data;

import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.CausalLmLoss;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Encoded examples as the model's {@link TokenBatch}: right-padded, label mask 1 exactly where the example has a
 * label, so {@link TokenBatch#labelsArray} gives back the example's own labels and the logits of the same batch line
 * up with them position by position.
 *
 * <p>Every position of an example is attended here, including the unattended EOS slot an {@link ExampleEncoder}
 * may append (docs/method.md §7.2). In a causal model a position's key is only seen by itself and later positions, and
 * that slot is the example's last, so the logits of every scored position are the same either way.
 */
public final class ModelBatches {

    private ModelBatches() {
    }

    /** The examples as one right-padded model batch with their label masks. */
    public static TokenBatch of(List<EncodedExample> examples, int padId) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("cannot batch an empty list of examples");
        }
        List<int[]> sequences = new ArrayList<>(examples.size());
        List<int[]> masks = new ArrayList<>(examples.size());
        for (EncodedExample e : examples) {
            sequences.add(e.inputIds());
            int[] mask = new int[e.length()];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = e.labels()[i] == CausalLmLoss.IGNORE_INDEX ? 0 : 1;
            }
            masks.add(mask);
        }
        return TokenBatch.of(sequences, TokenBatch.Padding.RIGHT, padId).withLabelMask(masks);
    }

    /** Consecutive slices of at most {@code size} examples, in order (the last may be shorter). */
    public static List<List<EncodedExample>> chunks(List<EncodedExample> examples, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + size);
        }
        List<List<EncodedExample>> out = new ArrayList<>();
        for (int from = 0; from < examples.size(); from += size) {
            out.add(List.copyOf(examples.subList(from, Math.min(examples.size(), from + size))));
        }
        return out;
    }

    /** Copies of the input ids, for callers that hand sequences to generation. */
    public static List<int[]> inputIds(List<EncodedExample> examples) {
        return examples.stream().map(e -> Arrays.copyOf(e.inputIds(), e.length())).toList();
    }
}
