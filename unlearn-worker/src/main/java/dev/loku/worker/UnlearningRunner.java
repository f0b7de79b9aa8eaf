package dev.loku.worker;

import dev.loku.core.engine.RecordSets;
import dev.loku.events.AdapterInitialization;
import dev.loku.events.UnlearningObjective;
import dev.loku.runtime.catalogue.UnlearningProfile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The engine boundary of the unlearning worker: train an adapter that makes the base model forget the forget set
 * (LoKU: FILA-initialised LoRA and the inverted hinge loss, docs/method.md §1-§4, or whatever objective and
 * initialisation the profile names), stopping when the forget set's MA and EL_10 fall below the thresholds measured
 * on unseen data, or when the epochs run out. Paths in, paths out, no Kafka: the {@link WorkerJob} does everything
 * around it (artifacts, versions, events, audit, progress), so the real engine and a test's fake are
 * interchangeable through {@link WorkerService}'s constructor.
 *
 * <p>Cancellation is by thread interrupt (the partition moved away, or the worker is stopping): implementations
 * check {@link Thread#interrupted()} between steps and throw {@link InterruptedException}. Nothing they wrote
 * is used then. They must not put the data's text into exception messages or logs.
 */
@FunctionalInterface
public interface UnlearningRunner {

    /** Trains; the outcome's folders must lie inside {@code job.workDir()}. */
    UnlearningOutcome run(UnlearningJob job, ProgressListener progress) throws Exception;

    /**
     * What to train.
     *
     * @param baseModel      the version to start from: a Hugging Face folder or a llama2.c {@code .bin} checkpoint
     * @param sets           the forget set and the model's retain and unseen data (the stop rule's thresholds come
     *                       from the unseen data)
     * @param importanceFile the Fisher importance of the base version on this forget set (safetensors), for FILA
     * @param profile        the profile for this attempt, retries already strengthened and epochs capped
     * @param seed           the run's seed
     * @param workDir        an empty scratch folder, deleted after the job: write the outputs here
     * @param checkpointDir  where the run keeps its state after each trained epoch and resumes from, if it finds
     *                       its own there (the caller deletes it when the job ends); null: no checkpoints
     */
    record UnlearningJob(Path baseModel, RecordSets sets, Path importanceFile, UnlearningProfile profile, long seed,
                         Path workDir, Path checkpointDir) {
        public UnlearningJob {
            Objects.requireNonNull(baseModel, "baseModel");
            Objects.requireNonNull(sets, "sets");
            Objects.requireNonNull(importanceFile, "importanceFile");
            Objects.requireNonNull(profile, "profile");
            Objects.requireNonNull(workDir, "workDir");
        }
    }

    /**
     * What was trained.
     *
     * @param modelDir         the candidate: base with the adapter merged, Hugging Face layout (config.json,
     *                         safetensors, tokenizer)
     * @param adapterDir       the adapter alone, PEFT layout (adapter_model.safetensors + adapter_config.json)
     * @param epochs           metrics at the end of each epoch, in order
     * @param stoppedAtEpoch   the epoch after which training stopped
     * @param reachedThreshold true when it stopped because the stop rule held, false when the epochs ran out
     * @param hyperparameters  every setting that shaped the run beyond the profile (alpha, targets, batch size...);
     *                         recorded with the profile's own
     * @param objective        the objective optimised
     * @param initialization   how the adapter started
     */
    record UnlearningOutcome(Path modelDir, Path adapterDir, List<EpochOutcome> epochs, int stoppedAtEpoch,
                             boolean reachedThreshold, Map<String, String> hyperparameters,
                             UnlearningObjective objective, AdapterInitialization initialization) {
        public UnlearningOutcome {
            Objects.requireNonNull(modelDir, "modelDir");
            Objects.requireNonNull(adapterDir, "adapterDir");
            epochs = List.copyOf(epochs);
            hyperparameters = Map.copyOf(hyperparameters);
            Objects.requireNonNull(objective, "objective");
            Objects.requireNonNull(initialization, "initialization");
        }
    }

    /**
     * One epoch, measured at its end (docs/method.md §5.1).
     *
     * @param epoch      1-based
     * @param loss       mean training loss
     * @param forgetMa   forget-set memorisation accuracy
     * @param forgetEl10 forget-set extraction likelihood EL_10
     * @param retainMa   retain-set MA, or null when the epoch skipped it
     * @param retainNll  retain-set mean NLL (nats), or null when skipped
     * @param seconds    wall-clock seconds of the epoch, evaluation included
     */
    record EpochOutcome(int epoch, double loss, double forgetMa, double forgetEl10, Double retainMa, Double retainNll,
                        double seconds) {
    }

    /** Told about each finished epoch (the worker publishes it as JobProgress); called on the training thread. */
    @FunctionalInterface
    interface ProgressListener {
        void epochFinished(EpochOutcome epoch);

        /** The adapter was initialised ({@code FILA}, {@code RANDOM}, {@code NONE}) in {@code seconds}, before training. */
        default void adapterInitialized(String initialization, double seconds) {
        }

        /** A listener that ignores everything. */
        static ProgressListener none() {
            return epoch -> { };
        }
    }
}
