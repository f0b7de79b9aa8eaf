package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;

/**
 * LoKU's inverted hinge loss on the forget batch plus the plain retain NLL (docs/method.md §1). The single place the IHL
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
            NDArray targets = CausalLmLoss.safeTargets(CausalLmLoss.shiftedLabels(batch.labels())).expandDims(-1);
            NDArray trueProb = probs.gather(targets, -1).squeeze(-1);
            // max_{v != y} p(v) without a [B, T, V] one-hot: the two largest probabilities and the token of the
            // first; where that token is y the runner-up is the second, else the first. The gradient reaches
            // only the runner-up token m, as it did through a max over the vocabulary with p(y) masked (§1.4).
            NDList top = probs.topK(2, -1, true, true);
            NDArray first = top.get(0).get(":, :, 0");
            NDArray second = top.get(0).get(":, :, 1");
            NDArray firstIsTrue = top.get(1).get(":, :, 0").eq(targets.squeeze(-1));
            NDArray bestOther = NDArrays.where(firstIsTrue, second, first);
            // The reference clamps at 0 (a Crammer-Singer hinge with margin 1), but 1 + p(y) - p(m) >= 0 always,
            // so the clamp never fires and is left out (§1.1).
            NDArray result = trueProb.sub(bestOther).add(Tensors.scalar(trueProb, 1));
            return scope.keep(result);
        }
    }
}
