package dev.loku.eval;

import dev.loku.runtime.service.ServiceMain;

/**
 * The eval service's runnable jar: {@code java -jar eval-service.jar [--config FILE]}, the same spec as
 * {@code loku serve eval} without the CLI (see {@link ServiceMain} for arguments, environment and exit codes).
 * The engine comes from {@link EngineCandidateEvaluator}; its refusal is a one-line start-up error.
 */
public final class EvalMain {

    /** What the jar runs: the eval service with its config groups and the engine-backed evaluator. */
    public static final ServiceMain.Spec SPEC = ServiceMain.Spec.of("eval", "eval-service.jar",
            "The eval service: scores base and candidate on forget, retain and unseen data, decides the verdict\n"
                    + "(promote, retry stronger, or fail), and purges the forget data after final verdicts.",
            EvalConfig.GROUPS, EvalConfig::from, config -> EvalService.create(config,
                    ServiceMain.refusalIsStartError(() -> EngineCandidateEvaluator.forConfig(config))));

    private EvalMain() {
    }

    public static void main(String[] args) {
        ServiceMain.main(SPEC, args);
    }
}
