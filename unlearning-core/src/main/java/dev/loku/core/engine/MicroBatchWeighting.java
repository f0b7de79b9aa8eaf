package dev.loku.core.engine;

import java.util.Locale;

/**
 * How the unlearning loop combines the micro-batches of an epoch into its one optimiser step (docs/engine.md
 * "Micro-batch weighting").
 */
public enum MicroBatchWeighting {
    /**
     * Every micro-batch counts 1/n, whatever it holds: the mean of the n micro-batch losses, each already a mean
     * within its micro-batch. The HF Trainer's gradient accumulation and the paper's recipe (docs/method.md §3.1,
     * §8.13); the default, and what every published experiment page was measured with.
     */
    EQUAL,
    /**
     * Each term of the objective counts by what it averages over: the forget term of micro-batch c by
     * {@code n_c / Σ n} with n its count of that unit (label tokens; sequences for NPO's per-sequence term), the
     * retain term likewise by its own count over the epoch's retain total (label tokens; B·T positions for KL's
     * batch-mean). The accumulated step is then that of each term as one mean over the whole epoch, as if the
     * forget set and its retain partners were one batch ({@link dev.loku.core.objective.UnlearningObjective#counts}).
     */
    TOKENS;

    /** The name the CLI, the worker's configuration and the report use: {@code equal} or {@code tokens}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
