package dev.loku.core.objective;

import dev.loku.core.model.TokenBatch;

/**
 * A loss over (forget, retain) micro-batches, in the shape of the reference code's {@code forget_loss} branches
 * (docs/method.md §4). Implementations are stateless and thread-safe.
 */
public interface UnlearningObjective {

    /** Which method this objective is; its {@link UnlearningMethod#id()} names it in reports and errors. */
    UnlearningMethod method();

    /** Which inputs beyond the forget batch {@link #compute} reads. */
    ObjectiveNeeds needs();

    /**
     * The loss for one micro-batch. Call it inside a gradient collector to train; the result stays in the autograd
     * graph of the logits.
     *
     * @throws IllegalArgumentException when an input that {@link #needs()} names is missing
     */
    ObjectiveLoss compute(ObjectiveInputs inputs);

    /**
     * What {@link #compute}'s forget and retain terms divide by on these micro-batches, read from the batches alone
     * (no forward pass), so that a trainer can weight micro-batches by them before it runs any. The default is a
     * token mean in both terms: each batch's label tokens, the count {@link CausalLmLoss#meanNll} divides by.
     *
     * @param retain the retain micro-batch, or null when {@link #needs()} asks for none
     */
    default TermCounts counts(TokenBatch forget, TokenBatch retain) {
        return new TermCounts(forget.targetCount(), retain == null ? 0 : retain.targetCount());
    }
}
