package dev.loku.fisher;

/**
 * The production {@link ImportanceEstimator}: the unlearning engine (unlearning-core's facade) behind this service's boundary.
 * Every entry point ({@code loku serve fisher}, the service's own main, the demo) builds it here and nowhere else.
 */
public final class EngineImportanceEstimator {

    private EngineImportanceEstimator() {
    }

    /** The engine-backed {@link ImportanceEstimator} configured by {@code config} (device, seed). */
    public static ImportanceEstimator forConfig(FisherConfig config) {
        throw new IllegalStateException("'fisher' cannot start: this build has no engine behind ImportanceEstimator yet");
    }
}
