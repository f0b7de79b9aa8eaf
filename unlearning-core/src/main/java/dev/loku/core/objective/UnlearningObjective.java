package dev.loku.core.objective;

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
}
