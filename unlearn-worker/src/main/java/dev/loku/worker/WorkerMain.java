package dev.loku.worker;

import dev.loku.runtime.service.ServiceMain;

/**
 * The unlearning worker's runnable jar: {@code java -jar unlearn-worker.jar [--config FILE]}, the same spec as
 * {@code loku serve worker} without the CLI (see {@link ServiceMain} for arguments, environment and exit codes).
 * The engine comes from {@link EngineUnlearningRunner}; its refusal is a one-line start-up error.
 */
public final class WorkerMain {

    /** What the jar runs: the worker with its config groups and the engine-backed runner. */
    public static final ServiceMain.Spec SPEC = ServiceMain.Spec.of("worker", "unlearn-worker.jar",
            "The unlearning worker: for each importance, a FILA-initialised LoRA trained with the inverted hinge loss,\n"
                    + "published as a candidate version and announced as UnlearnCompleted. Partitions stay paused while\n"
                    + "a job runs; outputs and offsets commit in one transaction.",
            WorkerConfig.GROUPS, WorkerConfig::from, config -> WorkerService.create(config,
                    ServiceMain.refusalIsStartError(() -> EngineUnlearningRunner.forConfig(config))));

    private WorkerMain() {
    }

    public static void main(String[] args) {
        ServiceMain.main(SPEC, args);
    }
}
