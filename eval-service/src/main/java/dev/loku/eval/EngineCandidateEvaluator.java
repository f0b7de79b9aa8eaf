package dev.loku.eval;

/**
 * The production {@link CandidateEvaluator}: the unlearning engine (unlearning-core's facade) behind this service's boundary.
 * Every entry point ({@code loku serve eval}, the service's own main, the demo) builds it here and nowhere else.
 */
public final class EngineCandidateEvaluator {

    private EngineCandidateEvaluator() {
    }

    /** The engine-backed {@link CandidateEvaluator} configured by {@code config} (device, seed). */
    public static CandidateEvaluator forConfig(EvalConfig config) {
        throw new IllegalStateException("'eval' cannot start: this build has no engine behind CandidateEvaluator yet");
    }
}
