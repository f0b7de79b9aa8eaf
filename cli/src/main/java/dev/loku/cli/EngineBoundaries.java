package dev.loku.cli;

import dev.loku.eval.CandidateEvaluator;
import dev.loku.eval.EngineCandidateEvaluator;
import dev.loku.eval.EvalConfig;
import dev.loku.fisher.EngineImportanceEstimator;
import dev.loku.fisher.FisherConfig;
import dev.loku.fisher.ImportanceEstimator;
import dev.loku.worker.EngineUnlearningRunner;
import dev.loku.worker.UnlearningRunner;
import dev.loku.worker.WorkerConfig;
import java.util.function.Supplier;

/**
 * Where the engine plugs into {@code loku serve fisher|worker|eval}: each service module builds its engine-backed
 * boundary from the service's configuration; this class only turns a refusal into a one-line user error.
 */
final class EngineBoundaries {

    private EngineBoundaries() {
    }

    static ImportanceEstimator importance(FisherConfig config) {
        return userFacing(() -> EngineImportanceEstimator.forConfig(config));
    }

    static UnlearningRunner unlearning(WorkerConfig config) {
        return userFacing(() -> EngineUnlearningRunner.forConfig(config));
    }

    static CandidateEvaluator evaluator(EvalConfig config) {
        return userFacing(() -> EngineCandidateEvaluator.forConfig(config));
    }

    private static <T> T userFacing(Supplier<T> factory) {
        try {
            return factory.get();
        } catch (IllegalStateException e) {
            throw new UserException(e.getMessage(), e);
        }
    }
}
