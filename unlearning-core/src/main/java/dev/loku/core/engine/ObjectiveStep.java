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
import dev.loku.core.objective.ObjectiveLoss;
import dev.loku.core.objective.ObjectiveNeeds;
import dev.loku.core.objective.ScoredBatch;
import dev.loku.core.objective.TermCounts;
import dev.loku.core.objective.UnlearningObjective;
import dev.loku.core.tensor.Tensors;
import java.util.List;

/**
 * One micro-batch of an unlearning objective (docs/method.md §4): the forget and (when the objective needs it) retain
 * micro-batches through the model, the frozen reference model's logits where the objective reads them (KL, NPO),
 * and the objective's loss, either as a value (no graph) or with its gradients left on the trainable parameters.
 * The loss is the objective's total, or with {@link Weights} its forget and retain terms each scaled by their own
 * weight (token-weighted micro-batches, {@link MicroBatchWeighting#TOKENS}).
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
        // A preset with random weights has no tokenizer; its batches pad with 0, as RecordSetEvaluator's do.
        this.padId = model.tokenizer() == null ? 0 : model.tokenizer().padId();
        if (needs.referenceModel() && reference == null) {
            throw new IllegalArgumentException(objective.method().id() + " needs a frozen reference model");
        }
    }

    /**
     * The weights of a micro-batch's forget and retain terms in an epoch's step: each term's count in this
     * micro-batch over its total in the epoch ({@link MicroBatchWeighting#TOKENS}).
     */
    record Weights(double forget, double retain) {

        /** {@code counts} as a share of {@code totals}; a term whose total is 0 (nothing to average) weighs 0. */
        static Weights share(TermCounts counts, TermCounts totals) {
            return new Weights(totals.forget() == 0 ? 0 : (double) counts.forget() / totals.forget(),
                    totals.retain() == 0 ? 0 : (double) counts.retain() / totals.retain());
        }
    }

    ObjectiveNeeds needs() {
        return needs;
    }

    /** What the objective's terms divide by on these micro-batches ({@link UnlearningObjective#counts}). */
    TermCounts counts(List<EncodedExample> forget, List<EncodedExample> retain) {
        return objective.counts(ModelBatches.of(forget, padId),
                needs.retainBatch() ? ModelBatches.of(retain, padId) : null);
    }

    /** The loss without recording a graph; {@code retain} is null when the objective reads no retain batch. */
    double value(List<EncodedExample> forget, List<EncodedExample> retain) {
        try (NDManager step = model.manager().newSubManager(); NoGrad ignored = NoGrad.enter()) {
            return loss(step, forget, retain).total().getFloat();
        }
    }

    /** {@link #value(List, List)} with the terms weighted: forget term × w.forget + retain term × w.retain. */
    double value(List<EncodedExample> forget, List<EncodedExample> retain, Weights w) {
        try (NDManager step = model.manager().newSubManager(); NoGrad ignored = NoGrad.enter()) {
            return weighted(loss(step, forget, retain), w).getFloat();
        }
    }

    /**
     * The loss with its backward pass run: the gradients are on the parameters that require them, for the caller
     * to read ({@code Gradients.of}) and zero.
     */
    double backward(List<EncodedExample> forget, List<EncodedExample> retain) {
        try (NDManager step = model.manager().newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray total = loss(step, forget, retain).total();
                double value = total.getFloat();
                model.backward(gc, total);
                return value;
            }
        }
    }

    /**
     * {@link #backward(List, List)} of the weighted terms: the gradients left on the parameters are those of
     * forget term × w.forget + retain term × w.retain, and that is the value returned.
     */
    double backward(List<EncodedExample> forget, List<EncodedExample> retain, Weights w) {
        try (NDManager step = model.manager().newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray total = weighted(loss(step, forget, retain), w);
                double value = total.getFloat();
                model.backward(gc, total);
                return value;
            }
        }
    }

    private static NDArray weighted(ObjectiveLoss loss, Weights w) {
        NDArray forget = Tensors.times(loss.forgetTerm(), w.forget());
        return loss.retainTerm() == null ? forget : forget.add(Tensors.times(loss.retainTerm(), w.retain()));
    }

    private ObjectiveLoss loss(NDManager step, List<EncodedExample> forget, List<EncodedExample> retain) {
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
        return objective.compute(new ObjectiveInputs(forgetScored, retainScored, forgetRef, retainRef));
    }
}
