package dev.loku.worker;

/**
 * The production {@link UnlearningRunner}: the unlearning engine (unlearning-core's facade) behind this service's boundary.
 * Every entry point ({@code loku serve worker}, the service's own main, the demo) builds it here and nowhere else.
 */
public final class EngineUnlearningRunner {

    private EngineUnlearningRunner() {
    }

    /** The engine-backed {@link UnlearningRunner} configured by {@code config} (device, seed). */
    public static UnlearningRunner forConfig(WorkerConfig config) {
        throw new IllegalStateException("'worker' cannot start: this build has no engine behind UnlearningRunner yet");
    }
}
