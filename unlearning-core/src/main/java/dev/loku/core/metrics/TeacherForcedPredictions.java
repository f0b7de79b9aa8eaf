package dev.loku.core.metrics;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.tensor.TensorScope;
import java.util.ArrayList;
import java.util.List;

/**
 * One sequence's greedy next-token predictions under teacher forcing, at the positions that carry a label, in
 * order: {@code predicted[j]} is argmax_v p(v | x_{<t}) and {@code target[j]} the true token x_t, for the j-th
 * kept position t (t ≥ 1). Greedily generating one token after every true prefix, as Jang et al.'s MA code does,
 * gives exactly these predictions (docs/method.md §5.1).
 */
public record TeacherForcedPredictions(int[] predicted, int[] target) {

    public TeacherForcedPredictions {
        if (predicted.length != target.length) {
            throw new IllegalArgumentException("predicted and target lengths differ");
        }
    }

    public int size() {
        return target.length;
    }

    /**
     * Reads the argmax of logits[:, :-1] against labels[:, 1:] for every row, keeping positions whose label is not
     * {@link CausalLmLoss#IGNORE_INDEX}. Only [B, T-1] ids leave the engine.
     *
     * @param logits [B, T, V]
     * @param labels [B, T] int64, unshifted
     */
    public static List<TeacherForcedPredictions> fromLogits(NDArray logits, NDArray labels) {
        long b = logits.getShape().get(0);
        long t = logits.getShape().get(1);
        if (labels.getShape().dimension() != 2 || labels.getShape().get(0) != b || labels.getShape().get(1) != t) {
            throw new IllegalArgumentException("labels " + labels.getShape() + " do not match logits "
                    + logits.getShape());
        }
        long[] argmax = TensorScope.call(
                () -> logits.get(":, :-1, :").argMax(-1).toType(DataType.INT64, false).toLongArray());
        long[] targets = TensorScope.call(() -> labels.get(":, 1:").toType(DataType.INT64, false).toLongArray());
        int width = (int) (t - 1);
        List<TeacherForcedPredictions> rows = new ArrayList<>((int) b);
        for (int row = 0; row < b; row++) {
            int kept = 0;
            for (int j = 0; j < width; j++) {
                if (targets[row * width + j] != CausalLmLoss.IGNORE_INDEX) {
                    kept++;
                }
            }
            int[] p = new int[kept];
            int[] y = new int[kept];
            int k = 0;
            for (int j = 0; j < width; j++) {
                long label = targets[row * width + j];
                if (label != CausalLmLoss.IGNORE_INDEX) {
                    p[k] = (int) argmax[row * width + j];
                    y[k] = (int) label;
                    k++;
                }
            }
            rows.add(new TeacherForcedPredictions(p, y));
        }
        return rows;
    }
}
