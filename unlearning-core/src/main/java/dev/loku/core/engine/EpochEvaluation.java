package dev.loku.core.engine;

/**
 * What the unlearning loop measures after each epoch (docs/engine.md "Epoch evaluation").
 */
public enum EpochEvaluation {
    /** Forget MA and EL_10 and retain MA and NLL after every epoch: the full curves, for experiments and reports. */
    EVERY_EPOCH,
    /**
     * What the stop rule needs, when it needs it: forget MA after every epoch; forget EL_10 only once forget MA is
     * below its threshold (the rule needs both below, so until then EL_10 cannot change the decision); retain MA
     * and NLL at epoch 0 and at the epoch training ends. Unmeasured numbers are NaN in the epoch records. The
     * stopping epoch and the trained model are the ones {@link #EVERY_EPOCH} gives.
     */
    STOP_RULE
}
