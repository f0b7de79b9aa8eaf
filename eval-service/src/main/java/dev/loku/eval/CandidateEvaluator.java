package dev.loku.eval;

import java.nio.file.Path;

/**
 * The engine boundary of the eval service: one model's scores (LOKU-SPEC 5.1) on the forget set, the retain data
 * and the unseen data. The eval service calls it for the base version (before) and the candidate (after), and
 * decides the verdict itself from the two, independently of the numbers the worker reported. Paths in, numbers
 * out, no Kafka, so the real engine and a test's fake are interchangeable through {@link EvalService}'s
 * constructor.
 *
 * <p>Implementations must stop promptly when their thread is interrupted (throw {@link InterruptedException}) and
 * must not put the data's text into exception messages or logs.
 */
@FunctionalInterface
public interface CandidateEvaluator {

    /**
     * Scores {@code model} (a Hugging Face folder or a llama2.c {@code .bin} checkpoint). The JSONL files hold one
     * {@code {"text"}} or {@code {"question","answer"}} object per line.
     */
    Metrics evaluate(Path model, Path forgetJsonl, Path retainJsonl, Path unseenJsonl) throws Exception;

    /**
     * Mean scores of one model.
     *
     * @param forgetMa   memorisation accuracy on the forget set, in [0, 1]
     * @param forgetEl10 extraction likelihood EL_10 on the forget set, in [0, 1]
     * @param retainMa   memorisation accuracy on the retain data
     * @param retainNll  per-token negative log-likelihood on the retain data, in nats
     * @param unseenMa   memorisation accuracy on the unseen data (the MA threshold, for a base version)
     * @param unseenEl10 EL_10 on the unseen data (the EL_10 threshold, for a base version)
     */
    record Metrics(double forgetMa, double forgetEl10, double retainMa, double retainNll, double unseenMa,
                   double unseenEl10) {
    }
}
