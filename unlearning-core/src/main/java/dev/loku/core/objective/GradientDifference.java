package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import dev.loku.core.tensor.TensorScope;

/** Gradient difference: −NLL_mean(forget) + NLL_mean(retain), both weights 1 (docs/method.md §4 {@code grad_diff}). */
public final class GradientDifference implements UnlearningObjective {

    private static final ObjectiveNeeds NEEDS = new ObjectiveNeeds(true, false, false);

    @Override
    public UnlearningMethod method() {
        return UnlearningMethod.GD;
    }

    @Override
    public ObjectiveNeeds needs() {
        return NEEDS;
    }

    @Override
    public ObjectiveLoss compute(ObjectiveInputs inputs) {
        ScoredBatch retain = inputs.requireRetain("gradient difference");
        try (TensorScope scope = new TensorScope()) {
            NDArray forgetTerm = CausalLmLoss.meanNll(inputs.forget()).neg();
            NDArray retainTerm = CausalLmLoss.meanNll(retain);
            NDArray total = forgetTerm.add(retainTerm);
            scope.keep(total);
            scope.keep(forgetTerm);
            scope.keep(retainTerm);
            return new ObjectiveLoss(total, forgetTerm, retainTerm);
        }
    }
}
