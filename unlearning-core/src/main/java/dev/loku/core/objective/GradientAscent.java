package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import dev.loku.core.tensor.TensorScope;

/** Gradient ascent: minimise −NLL_mean(forget), no retain term (docs/method.md §4 {@code grad_ascent}). */
public final class GradientAscent implements UnlearningObjective {

    private static final ObjectiveNeeds NEEDS = new ObjectiveNeeds(false, false, false);

    @Override
    public UnlearningMethod method() {
        return UnlearningMethod.GA;
    }

    @Override
    public ObjectiveNeeds needs() {
        return NEEDS;
    }

    @Override
    public ObjectiveLoss compute(ObjectiveInputs inputs) {
        try (TensorScope scope = new TensorScope()) {
            NDArray forgetTerm = CausalLmLoss.meanNll(inputs.forget()).neg();
            scope.keep(forgetTerm);
            return new ObjectiveLoss(forgetTerm, forgetTerm, null);
        }
    }
}
