package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import java.util.Objects;

/**
 * Everything an {@link UnlearningObjective} may read for one step. Only the forget batch is always present; the
 * others are null unless the objective's {@link ObjectiveNeeds} ask for them. Reference logits are treated as
 * constants (no gradient flows into them).
 *
 * @param forget the model's logits and labels on the forget micro-batch
 * @param retain the model's logits and labels on the retain micro-batch, or null
 * @param forgetReferenceLogits [B, T, V] reference logits on the forget inputs, or null
 * @param retainReferenceLogits [B, T, V] reference logits on the retain inputs, or null
 */
public record ObjectiveInputs(
        ScoredBatch forget, ScoredBatch retain, NDArray forgetReferenceLogits, NDArray retainReferenceLogits) {

    public ObjectiveInputs {
        Objects.requireNonNull(forget, "forget batch");
        checkSameShape("forget reference logits", forgetReferenceLogits, forget);
        if (retainReferenceLogits != null && retain == null) {
            throw new IllegalArgumentException("retain reference logits were given without a retain batch");
        }
        checkSameShape("retain reference logits", retainReferenceLogits, retain);
    }

    public static ObjectiveInputs forgetOnly(ScoredBatch forget) {
        return new ObjectiveInputs(forget, null, null, null);
    }

    public static ObjectiveInputs of(ScoredBatch forget, ScoredBatch retain) {
        return new ObjectiveInputs(forget, retain, null, null);
    }

    ScoredBatch requireRetain(String objective) {
        if (retain == null) {
            throw new IllegalArgumentException(objective + " needs a retain batch, but none was given");
        }
        return retain;
    }

    NDArray requireForgetReference(String objective) {
        if (forgetReferenceLogits == null) {
            throw new IllegalArgumentException(objective + " needs the reference model's logits on the forget batch");
        }
        return forgetReferenceLogits;
    }

    NDArray requireRetainReference(String objective) {
        if (retainReferenceLogits == null) {
            throw new IllegalArgumentException(objective + " needs the reference model's logits on the retain batch");
        }
        return retainReferenceLogits;
    }

    private static void checkSameShape(String what, NDArray reference, ScoredBatch batch) {
        if (reference != null && batch != null && !reference.getShape().equals(batch.logits().getShape())) {
            throw new IllegalArgumentException(what + " have shape " + reference.getShape()
                    + " but the model's logits have " + batch.logits().getShape());
        }
    }
}
