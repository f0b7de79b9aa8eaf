package dev.loku.worker;

import dev.loku.core.engine.EpochCheckpoints;
import dev.loku.core.engine.EpochListener;
import dev.loku.core.engine.EpochRecord;
import dev.loku.core.engine.UnlearnReport;
import dev.loku.core.engine.UnlearnResult;
import dev.loku.core.engine.UnlearnSettings;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.model.Devices;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.events.AdapterInitialization;
import dev.loku.events.UnlearningObjective;
import dev.loku.runtime.catalogue.UnlearningProfile;
import java.util.ArrayList;
import java.util.List;

/**
 * The production {@link UnlearningRunner}: the unlearning engine (unlearning-core's facade) behind this service's boundary.
 * Every entry point ({@code loku serve worker}, the service's own main, the demo) builds it here and nowhere else.
 *
 * <p>The profile (already at this attempt's strength) becomes the engine's {@link UnlearnSettings}: LoKU's tuned
 * defaults ({@link UnlearnSettings#loku()}: alpha, targets, batch size) with the profile's objective
 * (docs/method.md §2.3 for the inverted hinge loss, §4 for the baselines), initialisation (FILA, docs/method.md §2.4, or
 * plain LoRA), rank, learning rate and epoch budget, and the job's seed. The engine measures the thresholds on the
 * unseen data, scores epoch 0 before any update and trains until the stop rule (docs/method.md §5.1) or the budget; each
 * trained epoch is reported as progress. Outputs go to {@code workDir/unlearn/model} and {@code .../adapter}. With a
 * checkpoint folder the engine saves its state there after each trained epoch and resumes from it.
 */
public final class EngineUnlearningRunner {

    private EngineUnlearningRunner() {
    }

    /**
     * The engine-backed {@link UnlearningRunner} configured by {@code config} (device, activation checkpointing,
     * epoch evaluation, weight type, micro-batch weighting, export type; the seed comes with each job).
     *
     * @throws IllegalStateException when the configured device cannot be used, saying so in one line
     */
    public static UnlearningRunner forConfig(WorkerConfig config) {
        return over(engineFor(config));
    }

    /** The engine {@link #forConfig} runs. */
    static UnlearningEngine engineFor(WorkerConfig config) {
        return new UnlearningEngine(Devices.forService("worker", config.device()))
                .withActivationCheckpointing(config.checkpointActivations())
                .withEpochEvaluation(config.engineEpochEvaluation())
                .withWeightType(config.engineWeightType())
                .withMicroBatchWeighting(config.engineMicroBatchWeighting())
                .withExportType(config.engineExportType());
    }

    /** The boundary over an engine the caller built. */
    static UnlearningRunner over(UnlearningEngine engine) {
        return (job, progress) -> {
            UnlearnSettings settings = settings(job.profile(), job.seed());
            UnlearnResult result = engine.unlearn(job.baseModel(), job.sets(), job.importanceFile(), settings,
                    job.workDir().resolve("unlearn"), progressOf(progress), null,
                    job.checkpointDir() == null ? null : EpochCheckpoints.in(job.checkpointDir()));
            return outcome(result, job.profile());
        };
    }

    /**
     * The engine's epoch listener: trained epochs (1, 2, ...) go to {@code progress}; epoch 0 is no training. The
     * adapter's initialisation time goes along.
     */
    static EpochListener progressOf(UnlearningRunner.ProgressListener progress) {
        return new EpochListener() {
            @Override
            public void onEpoch(EpochRecord epoch) {
                if (epoch.epoch() > 0) {
                    progress.epochFinished(epochOutcome(epoch));
                }
            }

            @Override
            public void onAdapterInitialized(String initialization, double seconds) {
                progress.adapterInitialized(initialization, seconds);
            }
        };
    }

    /**
     * The engine's settings for a profile: {@link UnlearnSettings#loku()} with the profile's method, rank,
     * initialisation, learning rate and epochs, and {@code seed}.
     *
     * @throws IllegalArgumentException for a profile the pipeline cannot run: an UNKNOWN objective or
     *                                  initialisation, or FULL_FINETUNE (no adapter to store)
     */
    static UnlearnSettings settings(UnlearningProfile profile, long seed) {
        return UnlearnSettings.loku()
                .withMethod(method(profile.method()))
                .withLoraRank(profile.loraRank())
                .withFila(fila(profile.initialization()))
                .withLearningRate(profile.learningRate())
                .withMaxEpochs(profile.maxEpochs())
                .withSeed(seed);
    }

    /** The engine's method for the event schema's objective. */
    static UnlearningMethod method(UnlearningObjective objective) {
        return switch (objective) {
            case INVERTED_HINGE_LOSS -> UnlearningMethod.IHL;
            case GRADIENT_ASCENT -> UnlearningMethod.GA;
            case GRADIENT_DIFFERENCE -> UnlearningMethod.GD;
            case KL_MINIMIZATION -> UnlearningMethod.KL;
            case NPO -> UnlearningMethod.NPO;
            case UNKNOWN -> throw new IllegalArgumentException("the profile's unlearning objective is UNKNOWN "
                    + "(a symbol this build does not know); use one of INVERTED_HINGE_LOSS, GRADIENT_ASCENT, "
                    + "GRADIENT_DIFFERENCE, KL_MINIMIZATION, NPO");
        };
    }

    /** Whether the adapter starts from FILA (true) or from LoRA's default initialisation (false). */
    static boolean fila(AdapterInitialization initialization) {
        return switch (initialization) {
            case FILA -> true;
            case LORA_DEFAULT -> false;
            case FULL_FINETUNE -> throw new IllegalArgumentException("the profile's initialization FULL_FINETUNE "
                    + "trains every weight and produces no adapter, but the pipeline stores an adapter per "
                    + "candidate; use FILA or LORA_DEFAULT");
            case UNKNOWN -> throw new IllegalArgumentException("the profile's initialization is UNKNOWN (a symbol "
                    + "this build does not know); use FILA or LORA_DEFAULT");
        };
    }

    /** A trained epoch (1-based) as the boundary reports it. */
    static UnlearningRunner.EpochOutcome epochOutcome(EpochRecord epoch) {
        return new UnlearningRunner.EpochOutcome(epoch.epoch(), epoch.loss(), epoch.forgetMa(), epoch.forgetEl10(),
                finiteOrNull(epoch.retainMa()), finiteOrNull(epoch.retainNll()), epoch.seconds());
    }

    /**
     * The engine's result as the boundary's outcome: the trained epochs (epoch 0, the measurement before any
     * update, is not an epoch of training), where training stopped and why, the engine's hyper-parameters.
     */
    static UnlearningRunner.UnlearningOutcome outcome(UnlearnResult result, UnlearningProfile profile) {
        if (result.adapterDir() == null) {
            throw new IllegalStateException("the engine trained full weights and wrote no adapter");
        }
        UnlearnReport report = result.report();
        List<UnlearningRunner.EpochOutcome> epochs = new ArrayList<>();
        for (EpochRecord e : report.epochs()) {
            if (e.epoch() > 0) {
                epochs.add(epochOutcome(e));
            }
        }
        return new UnlearningRunner.UnlearningOutcome(result.modelDir(), result.adapterDir(), epochs,
                report.stoppedAtEpoch(), report.reachedThreshold(), report.hyperparameters(), profile.method(),
                profile.initialization());
    }

    /** A metric the engine skipped this epoch (NaN) is absent in the event. */
    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
