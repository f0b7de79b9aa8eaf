package dev.loku.core.metrics;

/**
 * The outcome of an unlearning job: did the forget set fall below the unseen-data thresholds, did retained data keep
 * its memorisation within tolerance, and (the general-ability guard) did the NLL on held-out general text rise by no
 * more than its tolerance.
 *
 * @param generalKept true when the general NLL rose by at most the tolerance, or when no general set was measured
 *     (NaN before and after)
 */
public record Verdict(
        boolean forgotten,
        boolean retainKept,
        boolean generalKept,
        double forgetMa,
        double forgetEl,
        Thresholds thresholds,
        double retainMaBefore,
        double retainMaAfter,
        double generalNllBefore,
        double generalNllAfter) {

    /** The verdict without a general-ability guard. */
    public static Verdict judge(Thresholds thresholds, RetainTolerance tolerance, double forgetMa, double forgetEl,
            double retainMaBefore, double retainMaAfter) {
        return judge(thresholds, tolerance, Double.POSITIVE_INFINITY, forgetMa, forgetEl, retainMaBefore,
                retainMaAfter, Double.NaN, Double.NaN);
    }

    /**
     * @param generalTolerance the largest allowed rise of the general NLL (nats per token)
     * @param generalNllBefore the base model's NLL on the general set, NaN when none was measured
     */
    public static Verdict judge(Thresholds thresholds, RetainTolerance tolerance, double generalTolerance,
            double forgetMa, double forgetEl, double retainMaBefore, double retainMaAfter, double generalNllBefore,
            double generalNllAfter) {
        boolean measured = !Double.isNaN(generalNllBefore) || !Double.isNaN(generalNllAfter);
        // A NaN after a measured before (the candidate's NLL is not a number) fails the guard.
        boolean generalKept = !measured || generalNllAfter - generalNllBefore <= generalTolerance;
        return new Verdict(thresholds.reachedBy(forgetMa, forgetEl), tolerance.kept(retainMaBefore, retainMaAfter),
                generalKept, forgetMa, forgetEl, thresholds, retainMaBefore, retainMaAfter, generalNllBefore,
                generalNllAfter);
    }

    /** Every condition holds: the candidate model may be promoted. */
    public boolean passed() {
        return forgotten && retainKept && generalKept;
    }

    /** A guard on retained or general ability failed: a retry should be gentler, not stronger. */
    public boolean utilityLost() {
        return !retainKept || !generalKept;
    }
}
