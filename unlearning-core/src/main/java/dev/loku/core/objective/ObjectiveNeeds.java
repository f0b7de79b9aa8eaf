package dev.loku.core.objective;

/**
 * What an objective reads besides the forget batch, so that a trainer runs only the forward passes it needs.
 *
 * @param retainBatch the model's logits on a retain micro-batch
 * @param forgetReferenceLogits a frozen reference model's logits on the forget micro-batch (NPO)
 * @param retainReferenceLogits a frozen reference model's logits on the retain micro-batch (KL)
 * @param refusalAnswers the forget batch is trained on with refusal answers in place of the true ones (idk): the
 *     forget records must be question/answer pairs, and the engine relabels them before training
 */
public record ObjectiveNeeds(boolean retainBatch, boolean forgetReferenceLogits, boolean retainReferenceLogits,
                             boolean refusalAnswers) {

    /** Needs of an objective that trains on the forget records as they are. */
    public ObjectiveNeeds(boolean retainBatch, boolean forgetReferenceLogits, boolean retainReferenceLogits) {
        this(retainBatch, forgetReferenceLogits, retainReferenceLogits, false);
    }

    /** True when a frozen copy of the starting model has to be kept for this objective. */
    public boolean referenceModel() {
        return forgetReferenceLogits || retainReferenceLogits;
    }
}
