package dev.loku.core.metrics;

/**
 * The outcome of an unlearning job: did the forget set fall below the unseen-data thresholds, and did retained data
 * keep its memorisation within tolerance.
 */
public record Verdict(
        boolean forgotten,
        boolean retainKept,
        double forgetMa,
        double forgetEl,
        Thresholds thresholds,
        double retainMaBefore,
        double retainMaAfter) {

    public static Verdict judge(Thresholds thresholds, RetainTolerance tolerance, double forgetMa, double forgetEl,
            double retainMaBefore, double retainMaAfter) {
        return new Verdict(thresholds.reachedBy(forgetMa, forgetEl), tolerance.kept(retainMaBefore, retainMaAfter),
                forgetMa, forgetEl, thresholds, retainMaBefore, retainMaAfter);
    }

    /** Both conditions hold: the candidate model may be promoted. */
    public boolean passed() {
        return forgotten && retainKept;
    }
}
