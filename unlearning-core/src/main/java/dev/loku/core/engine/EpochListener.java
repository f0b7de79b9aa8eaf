package dev.loku.core.engine;

/** Told about every unlearning epoch as soon as it is measured (epoch 0 first), e.g. to draw progress. */
@FunctionalInterface
public interface EpochListener {

    void onEpoch(EpochRecord epoch);

    /**
     * The run's adapter was set up before epoch 0: {@code initialization} is {@code FILA} (the importance loaded and
     * factorised, docs/method.md §2.3), {@code RANDOM} (a plain LoRA) or {@code NONE} (full weights), in {@code seconds}.
     */
    default void onAdapterInitialized(String initialization, double seconds) {
    }

    /** A listener that ignores everything. */
    static EpochListener none() {
        return epoch -> { };
    }
}
