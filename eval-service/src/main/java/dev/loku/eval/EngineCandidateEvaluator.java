package dev.loku.eval;

import dev.loku.core.engine.ModelScores;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.model.Devices;
import dev.loku.core.model.NoGrad;

/**
 * The production {@link CandidateEvaluator}: the unlearning engine (unlearning-core's facade) behind this service's boundary.
 * Every entry point ({@code loku serve eval}, the service's own main, the demo) builds it here and nowhere else.
 *
 * <p>The engine scores MA and EL_10 (LOKU-SPEC §5.1) on the forget and unseen sets and MA and NLL on the retain
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
        return (model, forget, retain, unseen) -> {
            // Inference in DJL's default grad mode (off), which DJL sets only on the thread that loaded the engine.
            try (NoGrad ignored = NoGrad.enter()) {
                return metrics(engine.evaluate(model, forget, retain, unseen));
            }
        };
    }

    /** The engine's scores as the boundary's metrics (same fields, same units). */
    static CandidateEvaluator.Metrics metrics(ModelScores s) {
        return new CandidateEvaluator.Metrics(s.forgetMa(), s.forgetEl10(), s.retainMa(), s.retainNll(), s.unseenMa(),
                s.unseenEl10());
    }
}
