package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.tensor.TensorScope;

/**
 * The "I don't know" baseline (docs/method.md §4 {@code idk}): the forget questions are paired with refusal answers drawn
 * at random from a list ("I don't have that information."), and the model is fine-tuned on them together with the
 * retain data: the loss is the token mean NLL over the refusal-labelled forget micro-batch and the retain micro-batch
 * taken as one batch, as the reference concatenates them. The forget batch this objective receives must already
 * carry the refusal answers as labels ({@link ObjectiveNeeds#refusalAnswers()}).
 */
public final class RefusalTuning implements UnlearningObjective {

    private static final ObjectiveNeeds NEEDS = new ObjectiveNeeds(true, false, false, true);

    @Override
    public UnlearningMethod method() {
        return UnlearningMethod.IDK;
    }

    @Override
    public ObjectiveNeeds needs() {
        return NEEDS;
    }

    @Override
    public ObjectiveLoss compute(ObjectiveInputs inputs) {
        ScoredBatch retain = inputs.requireRetain("the idk objective");
        try (TensorScope scope = new TensorScope()) {
            NDArray forgetMask = CausalLmLoss.keptMask(CausalLmLoss.shiftedLabels(inputs.forget().labels()));
            NDArray retainMask = CausalLmLoss.keptMask(CausalLmLoss.shiftedLabels(retain.labels()));
            NDArray forgetSum = CausalLmLoss.totalNll(inputs.forget());
            NDArray retainSum = CausalLmLoss.totalNll(retain);
            NDArray tokens = forgetMask.sum().add(retainMask.sum()).maximum(1f);
            NDArray total = forgetSum.add(retainSum).div(tokens);
            NDArray forgetTerm = forgetSum.div(tokens);
            NDArray retainTerm = retainSum.div(tokens);
            scope.keep(total);
            scope.keep(forgetTerm);
            scope.keep(retainTerm);
            return new ObjectiveLoss(total, forgetTerm, retainTerm);
        }
    }

    /** Both terms divide by the forget and retain label tokens together: one token mean over the joint batch. */
    @Override
    public TermCounts counts(TokenBatch forget, TokenBatch retain) {
        long tokens = (long) forget.targetCount() + (retain == null ? 0 : retain.targetCount());
        return new TermCounts(tokens, tokens);
    }
}
