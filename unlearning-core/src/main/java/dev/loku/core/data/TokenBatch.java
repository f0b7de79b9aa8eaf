package dev.loku.core.data;

import ai.djl.ndarray.NDArray;

/**
 * A right-padded micro-batch, all int64 [B, T]: {@code inputIds} (padding = the tokenizer's pad id),
 * {@code attentionMask} (1 on real tokens), {@code labels} (−100 on prompt, padding and ignored positions).
 */
public record TokenBatch(NDArray inputIds, NDArray attentionMask, NDArray labels) implements AutoCloseable {

    public long batchSize() {
        return inputIds.getShape().get(0);
    }

    public long length() {
        return inputIds.getShape().get(1);
    }

    @Override
    public void close() {
        inputIds.close();
        attentionMask.close();
        labels.close();
    }
}
