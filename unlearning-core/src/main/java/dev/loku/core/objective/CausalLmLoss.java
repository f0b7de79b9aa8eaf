package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.model.TokenBatch;

/**
 * The shifted causal-LM pieces every objective shares: Hugging Face's pairing of logits[:, :-1] with labels[:, 1:],
 * the kept-position mask (label != -100), token log-probabilities, the token-mean NLL and per-sequence NLL sums
 * (docs/method.md §1.2, §4). Softmaxes run in fp32 whatever the logits' type (docs/method.md §8.2).
 *
 * <p>Every method returns arrays attached to the manager of its first input; intermediates are closed.
 */
public final class CausalLmLoss {

    /** Label value for positions that take no loss (PyTorch's cross-entropy ignore_index). */
    public static final int IGNORE_INDEX = TokenBatch.IGNORE_INDEX;

    private CausalLmLoss() {
    }

    /** logits[:, :-1, :] as fp32: the predictions for positions 1..T-1. */
    static NDArray shiftedLogits(NDArray logits) {
        return Tensors.cast(logits.get(":, :-1, :"), DataType.FLOAT32);
    }

    /** labels[:, 1:]: the targets the shifted logits are scored against. */
    static NDArray shiftedLabels(NDArray labels) {
        return labels.get(":, 1:");
    }

    /** 1.0 where the shifted label is kept, 0.0 where it is {@link #IGNORE_INDEX}; fp32, [B, T-1]. */
    static NDArray keptMask(NDArray shiftedLabels) {
        return shiftedLabels.neq(IGNORE_INDEX).toType(DataType.FLOAT32, false);
    }

    /** Shifted labels with ignored positions replaced by id 0 so that they can index the vocabulary. */
    static NDArray safeTargets(NDArray shiftedLabels) {
        return shiftedLabels.mul(shiftedLabels.neq(IGNORE_INDEX).toType(DataType.INT64, false))
                .toType(DataType.INT64, false);
    }

    /**
     * log p(label_{t+1} | x_{<=t}) for every shifted position, [B, T-1]; the value at ignored positions is
     * meaningless and must be masked by the caller.
     */
    static NDArray targetLogProbs(NDArray logits, NDArray labels) {
        NDArray logp = shiftedLogits(logits).logSoftmax(-1);
        NDArray targets = safeTargets(shiftedLabels(labels));
        return logp.gather(targets.expandDims(-1), -1).squeeze(-1);
    }

    /**
     * Hugging Face's causal-LM loss: cross-entropy averaged over every kept label token of the micro-batch (a token
     * mean, not a per-sequence mean; docs/method.md §1.3, §4). A batch with no kept token gives 0 rather than PyTorch's
     * NaN, so that an empty micro-batch cannot poison an accumulated step.
     */
    public static NDArray meanNll(ScoredBatch batch) {
        try (TensorScope scope = new TensorScope()) {
            NDArray mask = keptMask(shiftedLabels(batch.labels()));
            NDArray nllSum = targetLogProbs(batch.logits(), batch.labels()).mul(mask).sum().neg();
            NDArray result = nllSum.div(mask.sum().maximum(1f));
            return scope.keep(result);
        }
    }

    /** Per-sequence sum of token NLLs over kept labels, [B] (the reference code's {@code get_batch_loss}; §4). */
    public static NDArray sequenceNllSums(ScoredBatch batch) {
        try (TensorScope scope = new TensorScope()) {
            NDArray mask = keptMask(shiftedLabels(batch.labels()));
            NDArray result = targetLogProbs(batch.logits(), batch.labels()).mul(mask).sum(new int[] {1}).neg();
            return scope.keep(result);
        }
    }

    /** Sum of token NLLs over all kept labels of the batch (scalar), for dataset-level means and perplexity. */
    public static NDArray totalNll(ScoredBatch batch) {
        try (TensorScope scope = new TensorScope()) {
            NDArray mask = keptMask(shiftedLabels(batch.labels()));
            NDArray result = targetLogProbs(batch.logits(), batch.labels()).mul(mask).sum().neg();
            return scope.keep(result);
        }
    }

    /** Number of shifted positions with a kept label, i.e. the tokens the model is scored on. */
    public static long keptTokenCount(NDArray labels) {
        return TensorScope.call(
                () -> shiftedLabels(labels).neq(IGNORE_INDEX).sum().toType(DataType.INT64, false).getLong());
    }
}
