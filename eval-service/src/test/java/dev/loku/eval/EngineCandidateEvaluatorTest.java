package dev.loku.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.engine.EvaluationReport;
import dev.loku.core.engine.RecordSetScores;
import dev.loku.events.EvaluationMetrics;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the engine's scores and device errors cross the eval service's boundary. */
class EngineCandidateEvaluatorTest {

    @Test
    void everyScoreLandsInTheEventFieldOfTheSameMeaning() {
        // Distinct values, so a swapped pair of fields cannot pass.
        EvaluationMetrics m = VerificationJob.avro(new EvaluationReport(new RecordSetScores(3, 0.11, 0.22, 7, 8, 9),
                new RecordSetScores(4, 0.33, 0.5, 4.4, 8, 9), new RecordSetScores(5, 0.55, 0.66, 7, 8, 9),
                new RecordSetScores(6, 0.1, 0.2, 1.77, 8, 9)));
        assertEquals(new EvaluationMetrics(0.11, 0.22, 0.33, 4.4, 0.55, 0.66, 1.77), m);
        EvaluationMetrics withoutGeneral = VerificationJob.avro(new EvaluationReport(
                new RecordSetScores(3, 0.11, 0.22, 7, 8, 9), new RecordSetScores(4, 0.33, 0.5, 4.4, 8, 9),
                new RecordSetScores(5, 0.55, 0.66, 7, 8, 9)));
        assertEquals(null, withoutGeneral.getGeneralNll(), "not measured is null, not NaN");
    }

    @Test
    void anUnusableDeviceIsAOneLineRefusalNamingTheService() {
        EvalConfig config = EvalConfig.of(Map.of("artifacts.root", "/tmp/a", "models.catalogue", "/tmp/c.json",
                "eval.device", "gpu:42"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> EngineCandidateEvaluator.forConfig(config));
        assertTrue(e.getMessage().startsWith("'eval' cannot start: "), e.getMessage());
    }
}
