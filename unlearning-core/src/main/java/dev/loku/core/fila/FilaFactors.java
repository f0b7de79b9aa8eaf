package dev.loku.core.fila;

import ai.djl.ndarray.NDArray;

/**
 * FILA's initialisation of one adapted linear layer, fp32 (docs/method.md §2.4): load {@code loraA} into PEFT's
 * {@code lora_A.weight}, {@code loraB} into {@code lora_B.weight}, and replace the base weight by
 * {@code residualWeight}, so that residual + scaling · B·A equals the original weight and the model is unchanged at
 * step 0. The residual is part of the model state: checkpoints must keep it (§8.6).
 *
 * @param loraA A₀, [r, k_in]
 * @param loraB B₀, [d_out, r]
 * @param residualWeight W_res = W − s·B₀A₀, [d_out, k_in]
 * @param rowWeights w, [d_out]
 * @param scaling s = alpha / r
 */
public record FilaFactors(NDArray loraA, NDArray loraB, NDArray residualWeight, NDArray rowWeights, double scaling)
        implements AutoCloseable {

    @Override
    public void close() {
        loraA.close();
        loraB.close();
        residualWeight.close();
        rowWeights.close();
    }
}
