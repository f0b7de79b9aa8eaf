package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import java.util.Objects;

/**
 * One micro-batch as a causal LM scored it: {@code logits} [B, T, V] from the forward pass and the batch's
 * {@code labels} [B, T] (int64, {@link CausalLmLoss#IGNORE_INDEX} where no loss is taken). Labels are aligned with
 * the inputs, not shifted: position t of the logits predicts label t + 1, as in Hugging Face (docs/method.md §1.2).
 */
public record ScoredBatch(NDArray logits, NDArray labels) {

    public ScoredBatch {
        Objects.requireNonNull(logits, "logits");
        Objects.requireNonNull(labels, "labels");
        if (logits.getShape().dimension() != 3) {
            throw new IllegalArgumentException("logits must be [B, T, V], got " + logits.getShape());
        }
        if (labels.getShape().dimension() != 2
                || labels.getShape().get(0) != logits.getShape().get(0)
                || labels.getShape().get(1) != logits.getShape().get(1)) {
            throw new IllegalArgumentException(
                    "labels must be [B, T] matching logits " + logits.getShape() + ", got " + labels.getShape());
        }
        if (logits.getShape().get(1) < 2) {
            throw new IllegalArgumentException("a causal LM batch needs T >= 2 to predict anything, got "
                    + logits.getShape());
        }
    }

    public long batchSize() {
        return logits.getShape().get(0);
    }

    public long length() {
        return logits.getShape().get(1);
    }

    public long vocabSize() {
        return logits.getShape().get(2);
    }
}
