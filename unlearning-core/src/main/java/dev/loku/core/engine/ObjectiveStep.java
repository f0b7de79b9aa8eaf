package dev.loku.core.engine;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.ObjectiveInputs;
import dev.loku.core.objective.ObjectiveNeeds;
import dev.loku.core.objective.ScoredBatch;
import dev.loku.core.objective.UnlearningObjective;
import java.util.List;

/**
 * One micro-batch of an unlearning objective (docs/method.md §4): the forget and (when the objective needs it) retain
 * micro-batches through the model, the frozen reference model's logits where the objective reads them (KL, NPO),
 * and the objective's loss, either as a value (no graph) or with its gradients left on the trainable parameters.
 * Both the extraction-benchmark loop and the TOFU recipe run their steps through here.
 */
@SuppressWarnings("try") // NoGrad is a scope guard
final class ObjectiveStep {

    private final CausalLm model;
    private final ReferenceModel reference;
    private final UnlearningObjective objective;
    private final ObjectiveNeeds needs;
    private final int padId;

    /**
     * @param reference the frozen starting model, when the objective needs reference logits (KL, NPO); else null
     */
    ObjectiveStep(CausalLm model, ReferenceModel reference, UnlearningObjective objective) {
        this.model = model;
        this.reference = reference;
        this.objective = objective;
        this.needs = objective.needs();
        this.padId = model.tokenizer().padId();
        if (needs.referenceModel() && reference == null) {
            throw new IllegalArgumentException(objective.method().id() + " needs a frozen reference model");
        }
    }

    ObjectiveNeeds needs() {
        return needs;
    }

    /** The loss without recording a graph; {@code retain} is null when the objective reads no retain batch. */
    double value(List<EncodedExample> forget, List<EncodedExample> retain) {
        try (NDManager step = model.manager().newSubManager(); NoGrad ignored = NoGrad.enter()) {
            return loss(step, forget, retain).getFloat();
        }
    }

    /**
     * The loss with its backward pass run: the gradients are on the parameters that require them, for the caller
     * to read ({@code Gradients.of}) and zero.
     */
    double backward(List<EncodedExample> forget, List<EncodedExample> retain) {
        try (NDManager step = model.manager().newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray total = loss(step, forget, retain);
                double value = total.getFloat();
                model.backward(gc, total);
                return value;
            }
        }
    }

    private NDArray loss(NDManager step, List<EncodedExample> forget, List<EncodedExample> retain) {
        TokenBatch f = ModelBatches.of(forget, padId);
        TokenBatch r = needs.retainBatch() ? ModelBatches.of(retain, padId) : null;
        NDArray forgetRef = null;
        NDArray retainRef = null;
        if (needs.referenceModel()) {
            try (NoGrad ignored = NoGrad.enter()) {
                forgetRef = needs.forgetReferenceLogits() ? reference.logits(step, f) : null;
                retainRef = needs.retainReferenceLogits() ? reference.logits(step, r) : null;
            }
        }
        ScoredBatch forgetScored = new ScoredBatch(model.logits(step, f), f.labelsArray(step));
        ScoredBatch retainScored = r == null ? null : new ScoredBatch(model.logits(step, r), r.labelsArray(step));
        return objective.compute(new ObjectiveInputs(forgetScored, retainScored, forgetRef, retainRef)).total();
    }
}
