package dev.loku.eval;

import dev.loku.core.engine.EvaluationReport;
import dev.loku.core.engine.RecordSets;
import java.nio.file.Path;

/**
 * The engine boundary of the eval service: one model's scores (docs/method.md §5.1) on the forget set, the retain data
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
     * Scores {@code model} (a Hugging Face folder or a llama2.c {@code .bin} checkpoint) on the three sets: at least
     * MA and EL_10 of the forget and unseen sets and MA and NLL of the retain set.
     */
    EvaluationReport evaluate(Path model, RecordSets sets) throws Exception;
}
