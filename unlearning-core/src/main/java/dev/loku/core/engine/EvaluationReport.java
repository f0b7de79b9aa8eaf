package dev.loku.core.engine;

/**
 * A model's scores on the three record sets of a job (LOKU-SPEC §5.1): the one type for them, from the engine to the
 * eval service. The unseen set's MA and EL_10 on the starting model are the stop rule's thresholds (§3.2).
 */
public record EvaluationReport(RecordSetScores forget, RecordSetScores retain, RecordSetScores unseen) {

    /**
     * A report holding only the six figures the pipeline's events carry (forget MA and EL_10, retain MA and NLL,
     * unseen MA and EL_10); every other score is NaN and the record counts are 0. For callers that stand in for the
     * engine, such as a test's fake evaluator.
     */
    public static EvaluationReport of(double forgetMa, double forgetEl10, double retainMa, double retainNll,
                                      double unseenMa, double unseenEl10) {
        double n = Double.NaN;
        return new EvaluationReport(new RecordSetScores(0, forgetMa, forgetEl10, n, n, n),
                new RecordSetScores(0, retainMa, n, retainNll, n, n), new RecordSetScores(0, unseenMa, unseenEl10, n, n, n));
    }
}
