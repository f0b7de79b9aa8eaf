package dev.loku.fisher;

import dev.loku.runtime.catalogue.UnlearningProfile;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The engine boundary of the Fisher service: Fisher importance of a model's parameters over a forget set and a
 * retain sample (docs/method.md §2.2, token-weighted squared gradients, fp32), written as one safetensors file. Paths
 * in, paths out, no Kafka: the {@link FisherJob} does everything around it (artifacts, events, audit), so the real
 * engine and a test's fake are interchangeable through {@link FisherService}'s constructor.
 *
 * <p>Implementations must stop promptly when their thread is interrupted (the partition moved away, or the
 * service is stopping), by throwing {@link InterruptedException}, and must not put the data's text into exception
 * messages or logs (only the exception's class name is ever published, but messages reach debug output).
 */
@FunctionalInterface
public interface ImportanceEstimator {

    /** Computes the importance; the outcome's file must lie inside {@code job.workDir()}. */
    ImportanceOutcome estimate(ImportanceJob job) throws Exception;

    /**
     * What to measure.
     *
     * @param model          the base version: a Hugging Face folder or a llama2.c {@code .bin} checkpoint
     * @param forgetSetJsonl the forget set, one {@code {"text"}} or {@code {"question","answer"}} object per line
     * @param retainJsonl    the model's retain data (same format); sample as many items as the forget set has
     * @param seed           seed of that sample
     * @param profile        the model's unlearning profile at this attempt (targets, rank) for what FILA will need
     * @param workDir        an empty scratch folder, deleted after the job: write the output here
     */
    record ImportanceJob(Path model, Path forgetSetJsonl, Path retainJsonl, long seed, UnlearningProfile profile,
                         Path workDir) {
        public ImportanceJob {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(forgetSetJsonl, "forgetSetJsonl");
            Objects.requireNonNull(retainJsonl, "retainJsonl");
            Objects.requireNonNull(profile, "profile");
            Objects.requireNonNull(workDir, "workDir");
        }
    }

    /**
     * What was measured.
     *
     * @param safetensorsFile per-layer forget and retain importance tensors (the layout FILA reads)
     * @param forgetTokens    tokens of forget data accumulated
     * @param retainTokens    tokens of retain data accumulated
     */
    record ImportanceOutcome(Path safetensorsFile, long forgetTokens, long retainTokens) {
        public ImportanceOutcome {
            Objects.requireNonNull(safetensorsFile, "safetensorsFile");
        }
    }
}
