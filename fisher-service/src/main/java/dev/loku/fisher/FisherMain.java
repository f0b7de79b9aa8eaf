package dev.loku.fisher;

import dev.loku.runtime.service.ServiceMain;

/**
 * The Fisher service's runnable jar: {@code java -jar fisher-service.jar [--config FILE]}, the same spec as
 * {@code loku serve fisher} without the CLI (see {@link ServiceMain} for arguments, environment and exit codes).
 * The engine comes from {@link EngineImportanceEstimator}; its refusal is a one-line start-up error.
 */
public final class FisherMain {

    /** What the jar runs: the Fisher service with its config groups and the engine-backed estimator. */
    public static final ServiceMain.Spec SPEC = ServiceMain.Spec.of("fisher", "fisher-service.jar",
            "The Fisher service: for each forget set, the Fisher importance of the base version over the forget set\n"
                    + "and a retain sample, stored and announced as ImportanceReady.",
            FisherConfig.GROUPS, FisherConfig::from, config -> FisherService.create(config,
                    ServiceMain.refusalIsStartError(() -> EngineImportanceEstimator.forConfig(config))));

    private FisherMain() {
    }

    public static void main(String[] args) {
        ServiceMain.main(SPEC, args);
    }
}
