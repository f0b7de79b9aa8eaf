package dev.loku.core.engine;

import dev.loku.core.model.CausalLm;

/**
 * Looks at the model between the epochs of a scheduled unlearning run ({@link UnlearningEngine#unlearnScheduled}):
 * epoch 0 before any update, then after every epoch. The model is the one being trained, with its adapters in
 * place; a probe may run forward passes and generation on it but must not change it.
 */
@FunctionalInterface
public interface EpochProbe {

    /**
     * @param epoch 0 before training, then 1..epochs
     * @param loss the objective's mean over the epoch's micro-batches (at epoch 0: over the first epoch's batches at
     *     the starting weights)
     * @throws InterruptedException to stop the run
     */
    void afterEpoch(int epoch, double loss, CausalLm model) throws InterruptedException;
}
