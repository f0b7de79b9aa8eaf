package dev.loku.core.engine;

/**
 * A model's scores on the three record sets of a job (docs/method.md §5.1): the one type for them, from the engine to the
 * eval service. The unseen set's MA and EL_10 on the starting model are the stop rule's thresholds (§3.2).
 */
public record EvaluationReport(RecordSetScores forget, RecordSetScores retain, RecordSetScores unseen,
                               RecordSetScores general) {

    /** A report of the three job sets, no general-text set measured. */
    public EvaluationReport(RecordSetScores forget, RecordSetScores retain, RecordSetScores unseen) {
        this(forget, retain, unseen, null);
    }

    /** Mean NLL per token on the general-text set; NaN when it was not measured. */
    public double generalNll() {
        return general == null ? Double.NaN : general.nll();
    }

    /** The same report with the general-text set's mean NLL (a fake evaluator's stand-in for a measured set). */
    public EvaluationReport withGeneralNll(double nll) {
        return new EvaluationReport(forget, retain, unseen,
                new RecordSetScores(0, Double.NaN, Double.NaN, nll, Double.NaN, Double.NaN));
    }

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
