package dev.loku.fisher;

import dev.loku.core.engine.ImportanceSummary;
import dev.loku.core.engine.UnlearnSettings;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.model.Devices;
import java.nio.file.Path;
import java.util.List;

/**
 * The production {@link ImportanceEstimator}: the unlearning engine (unlearning-core's facade) behind this service's boundary.
 * Every entry point ({@code loku serve fisher}, the service's own main, the demo) builds it here and nowhere else.
 *
 * <p>The importance is the token-weighted Fisher diagonal over the forget set and an equally sized seeded sample of
 * the retain data (docs/method.md §2.2), measured on the projections LoKU's LoRA adapts (the targets of
 * {@link UnlearnSettings#loku()}): exactly what FILA (docs/method.md §2.4) reads in the worker.
 */
public final class EngineImportanceEstimator {

    /** Name of the importance file inside the job's scratch folder. */
    static final String FILE_NAME = "importance.safetensors";

    private EngineImportanceEstimator() {
    }

    /**
     * The engine-backed {@link ImportanceEstimator} configured by {@code config} (device, seed).
     *
     * @throws IllegalStateException when the configured device cannot be used (e.g. {@code gpu} on a machine
     *                               without one), saying so in one line
     */
    public static ImportanceEstimator forConfig(FisherConfig config) {
        return over(new UnlearningEngine(Devices.forService("fisher", config.device())));
    }

    /** The boundary over an engine the caller built. */
    static ImportanceEstimator over(UnlearningEngine engine) {
        List<String> targets = UnlearnSettings.loku().targets();
        return job -> {
            Path out = job.workDir().resolve(FILE_NAME);
            return outcome(engine.estimateImportance(job.model(), job.forgetSetJsonl(), job.retainJsonl(), targets,
                    job.seed(), out));
        };
    }

    /** The engine's summary as the boundary's outcome. */
    static ImportanceEstimator.ImportanceOutcome outcome(ImportanceSummary summary) {
        return new ImportanceEstimator.ImportanceOutcome(summary.file(), summary.forgetTokens(), summary.retainTokens());
    }
}
