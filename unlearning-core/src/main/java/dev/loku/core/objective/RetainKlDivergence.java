package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;
import ai.djl.ndarray.types.DataType;

/**
 * The KL baseline: −NLL_mean(forget) + KL(p_ref ‖ p_θ) on the retain inputs (docs/method.md §4 {@code KL}).
 *
 * <p>As in the reference code the KL is <em>unmasked and unshifted</em>: every position of every retain sequence,
 * prompt and padding included, flattened to [B·T, V] and reduced with "batchmean", i.e. divided by B·T (§4 notes,
 * §8.10). The reference model is the frozen starting model.
 */
public final class RetainKlDivergence implements UnlearningObjective {

    private static final ObjectiveNeeds NEEDS = new ObjectiveNeeds(true, false, true);

    @Override
    public UnlearningMethod method() {
        return UnlearningMethod.KL;
    }

    @Override
    public ObjectiveNeeds needs() {
        return NEEDS;
    }

    @Override
    public ObjectiveLoss compute(ObjectiveInputs inputs) {
        ScoredBatch retain = inputs.requireRetain("the KL objective");
        NDArray reference = inputs.requireRetainReference("the KL objective");
        try (TensorScope scope = new TensorScope()) {
            NDArray forgetTerm = CausalLmLoss.meanNll(inputs.forget()).neg();
            NDArray retainTerm = batchMeanKl(reference, retain.logits());
            NDArray total = forgetTerm.add(retainTerm);
            scope.keep(total);
            scope.keep(forgetTerm);
            scope.keep(retainTerm);
            return new ObjectiveLoss(total, forgetTerm, retainTerm);
        }
    }

    /**
     * The forget NLL is a token mean; the KL a mean over every position of the padded retain batch, B·T (see
     * {@link #batchMeanKl}), padding included as the reference has it.
     */
    @Override
    public TermCounts counts(TokenBatch forget, TokenBatch retain) {
        return new TermCounts(forget.targetCount(), retain == null ? 0 : (long) retain.size() * retain.length());
    }

    /**
     * Σ_{rows} Σ_v p_ref(v) (log p_ref(v) − log p_θ(v)) / (B·T): PyTorch's
     * {@code kl_div(log p_θ, log p_ref, reduction="batchmean", log_target=True)} over all B·T positions.
     */
    public static NDArray batchMeanKl(NDArray referenceLogits, NDArray logits) {
        try (TensorScope scope = new TensorScope()) {
            NDArray refLogp = referenceLogits.stopGradient().toType(DataType.FLOAT32, false).logSoftmax(-1);
            NDArray logp = Tensors.cast(logits, DataType.FLOAT32).logSoftmax(-1);
            long rows = logits.getShape().get(0) * logits.getShape().get(1);
            NDArray result = Tensors.dividedBy(refLogp.exp().mul(refLogp.sub(logp)).sum(), rows);
            return scope.keep(result);
        }
    }
}
