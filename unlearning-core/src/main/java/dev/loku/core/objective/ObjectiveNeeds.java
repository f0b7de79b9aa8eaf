package dev.loku.core.objective;

/**
 * What an objective reads besides the forget batch, so that a trainer runs only the forward passes it needs.
 *
 * @param retainBatch the model's logits on a retain micro-batch
 * @param forgetReferenceLogits a frozen reference model's logits on the forget micro-batch (NPO)
 * @param retainReferenceLogits a frozen reference model's logits on the retain micro-batch (KL)
 */
public record ObjectiveNeeds(boolean retainBatch, boolean forgetReferenceLogits, boolean retainReferenceLogits) {

    /** True when a frozen copy of the starting model has to be kept for this objective. */
    public boolean referenceModel() {
        return forgetReferenceLogits || retainReferenceLogits;
    }
}
