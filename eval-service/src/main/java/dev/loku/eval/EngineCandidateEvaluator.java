package dev.loku.eval;

import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.model.Devices;

/**
 * The production {@link CandidateEvaluator}: the unlearning engine (unlearning-core's facade) behind this service's boundary.
 * Every entry point ({@code loku serve eval}, the service's own main, the demo) builds it here and nowhere else.
 *
 * <p>The engine scores MA and EL_10 (docs/method.md §5.1) on the forget and unseen sets and MA and NLL on the retain
 * data, with its own code path, independently of the numbers the worker reported.
 */
public final class EngineCandidateEvaluator {

    private EngineCandidateEvaluator() {
    }

    /**
     * The engine-backed {@link CandidateEvaluator} configured by {@code config} (device).
     *
     * @throws IllegalStateException when the configured device cannot be used, saying so in one line
     */
    public static CandidateEvaluator forConfig(EvalConfig config) {
        return over(new UnlearningEngine(Devices.forService("eval", config.device())));
    }

    /** The boundary over an engine the caller built. */
    static CandidateEvaluator over(UnlearningEngine engine) {
        return engine::evaluate;
    }
}
