package dev.loku.core.metrics;

/** Dataset-level aggregation of per-sequence scores: the plain mean over sequences whose score is defined. */
public final class SequenceMeans {

    private SequenceMeans() {
    }

    /** Mean of the non-NaN values; NaN when there are none (an undefined metric must not pass a threshold). */
    public static double mean(double[] perSequence) {
        double sum = 0;
        int n = 0;
        for (double v : perSequence) {
            if (!Double.isNaN(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
