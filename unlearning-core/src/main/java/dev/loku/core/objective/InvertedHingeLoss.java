package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;

/**
 * LoKU's inverted hinge loss on the forget batch plus the plain retain NLL (LOKU-SPEC §1). The single place the IHL
 * formula lives: the CLI and the worker both call this class.
 *
 * <p>Per kept target position t with true token y: {@code 1 + p(y) − max_{v≠y} p(v)}, p being the fp32 softmax
 * over the whole vocabulary (§1.1, §8.1). The forget term is the token mean over the kept positions of the whole
 * micro-batch (§1.2); the retain NLL is added with weight exactly 1 (§1.3).
 */
public final class InvertedHingeLoss implements UnlearningObjective {

    private static final ObjectiveNeeds NEEDS = new ObjectiveNeeds(true, false, false);

    @Override
    public UnlearningMethod method() {
        return UnlearningMethod.IHL;
    }

    @Override
    public ObjectiveNeeds needs() {
        return NEEDS;
    }

    @Override
    public ObjectiveLoss compute(ObjectiveInputs inputs) {
        ScoredBatch retain = inputs.requireRetain("the inverted hinge loss");
        try (TensorScope scope = new TensorScope()) {
            NDArray forgetTerm = mean(inputs.forget());
            NDArray retainTerm = CausalLmLoss.meanNll(retain);
            NDArray total = forgetTerm.add(retainTerm);
            scope.keep(total);
            scope.keep(forgetTerm);
            scope.keep(retainTerm);
            return new ObjectiveLoss(total, forgetTerm, retainTerm);
        }
    }

    /**
     * IHL_mean of a batch: the token mean of {@link #perPosition} over kept positions (0 when none is kept).
     *
     * @return a scalar attached to the manager of the logits
     */
    public static NDArray mean(ScoredBatch batch) {
        try (TensorScope scope = new TensorScope()) {
            NDArray mask = CausalLmLoss.keptMask(CausalLmLoss.shiftedLabels(batch.labels()));
            NDArray result = perPosition(batch).mul(mask).sum().div(mask.sum().maximum(1f));
            return scope.keep(result);
        }
    }

    /**
     * The hinge value at every shifted position, [B, T-1]; positions whose label is ignored hold a meaningless value
     * (scored against token 0) and must be masked.
     */
    public static NDArray perPosition(ScoredBatch batch) {
        long vocab = batch.vocabSize();
        if (vocab < 2) {
            throw new IllegalArgumentException("the inverted hinge loss needs a vocabulary of at least 2 tokens");
        }
        try (TensorScope scope = new TensorScope()) {
            NDArray probs = CausalLmLoss.shiftedLogits(batch.logits()).softmax(-1);
            NDArray targets = CausalLmLoss.safeTargets(CausalLmLoss.shiftedLabels(batch.labels()));
            NDArray trueProb = probs.gather(targets.expandDims(-1), -1).squeeze(-1);
            // Push the true token's probability 2 below its own value: every other entry is >= 0 > p(y) - 2, so the
            // max then runs over v != y only, and its gradient reaches only the runner-up token m (§1.4).
            NDArray othersOnly = probs.sub(targets.oneHot((int) vocab).mul(2f));
            NDArray bestOther = othersOnly.max(new int[] {-1});
            // The reference clamps at 0 (a Crammer-Singer hinge with margin 1), but 1 + p(y) - p(m) >= 0 always,
            // so the clamp never fires and is left out (§1.1).
            NDArray result = trueProb.sub(bestOther).add(Tensors.scalar(trueProb, 1));
            return scope.keep(result);
        }
    }
}
