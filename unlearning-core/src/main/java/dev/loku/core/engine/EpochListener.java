package dev.loku.core.engine;

/** Told about every unlearning epoch as soon as it is measured (epoch 0 first), e.g. to draw progress. */
@FunctionalInterface
public interface EpochListener {

    void onEpoch(EpochRecord epoch);

    /** A listener that ignores everything. */
    static EpochListener none() {
        return epoch -> { };
    }
}
