package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;

/**
 * The anchor term of an anchored fine-tune: the mean over the real (unpadded) positions of
 * KL(p_start ‖ p_θ) = Σ_v p_start(v) (log p_start(v) − log p_θ(v)), the next-token distributions of the frozen
 * starting model and of the model being trained. Unlike the KL unlearning baseline's term (which follows its reference
 * code and averages over padding too), padding is masked out here: the anchor texts differ in length.
 */
final class AnchorDivergence {

    private AnchorDivergence() {
    }

    /**
     * @param referenceLogits {@code [B, T, V]} logits of the starting model (no gradient flows into them)
     * @param logits          {@code [B, T, V]} logits of the model being trained
     * @param attention       {@code [B, T]} float mask, 1 at real tokens
     * @return a float32 scalar
     */
    static NDArray maskedMeanKl(NDArray referenceLogits, NDArray logits, NDArray attention) {
        try (TensorScope scope = new TensorScope()) {
            NDArray refLogp = referenceLogits.stopGradient().toType(DataType.FLOAT32, false).logSoftmax(-1);
            NDArray logp = Tensors.cast(logits, DataType.FLOAT32).logSoftmax(-1);
            NDArray perPosition = refLogp.exp().mul(refLogp.sub(logp)).sum(new int[] {-1});
            NDArray result = perPosition.mul(attention).sum().div(attention.sum());
            return scope.keep(result);
        }
    }
}
