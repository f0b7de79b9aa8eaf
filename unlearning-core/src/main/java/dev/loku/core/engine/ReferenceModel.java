package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.TokenBatch;

/**
 * The frozen starting model whose logits KL and NPO read (docs/method.md §4). With full-weight training it is a copy
 * of the weights taken before the first step; with LoRA it is the trained model itself with its adapters set back
 * to their starting point ({@link dev.loku.core.lora.LoraModel#startingLogits}), so no second copy of the weights
 * is held.
 */
interface ReferenceModel extends AutoCloseable {

    /** {@code [B, T, V]} logits of the starting model, in {@code scope}; call under NoGrad. */
    NDArray logits(NDManager scope, TokenBatch batch);

    @Override
    void close();

    /** A frozen copy of {@code model}'s weights as they are now; closing the reference frees it. */
    static ReferenceModel copyOf(CausalLm model) {
        CausalLm copy = model.copy();
        return new ReferenceModel() {
            @Override
            public NDArray logits(NDManager scope, TokenBatch batch) {
                return copy.logits(scope, batch);
            }

            @Override
            public void close() {
                copy.close();
            }
        };
    }
}
