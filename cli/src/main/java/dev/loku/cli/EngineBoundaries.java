package dev.loku.cli;

import dev.loku.eval.CandidateEvaluator;
import dev.loku.eval.EvalConfig;
import dev.loku.fisher.FisherConfig;
import dev.loku.fisher.ImportanceEstimator;
import dev.loku.worker.UnlearningRunner;
import dev.loku.worker.WorkerConfig;

/**
 * Where the engine plugs into {@code loku serve fisher|worker|eval}: one factory per engine boundary, given the
 * service's configuration (its {@code *.device} and seed). Each service takes its boundary as one constructor
 * argument, so wiring the engine facade is a change here (and in the demo), nowhere else.
 *
 * <p>This build has no engine facade yet: the factories refuse, before anything connects, with a message saying so.
 */
final class EngineBoundaries {

    private EngineBoundaries() {
    }

    static ImportanceEstimator importance(FisherConfig config) {
        throw notWired("fisher", "ImportanceEstimator");
    }

    static UnlearningRunner unlearning(WorkerConfig config) {
        throw notWired("worker", "UnlearningRunner");
    }

    static CandidateEvaluator evaluator(EvalConfig config) {
        throw notWired("eval", "CandidateEvaluator");
    }

    private static UserException notWired(String service, String boundary) {
        return new UserException("'loku serve " + service + "' cannot start: this build has no engine behind "
                + boundary + " yet (the unlearning engine facade is not wired into the services)");
    }
}
