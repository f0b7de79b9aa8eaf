package dev.loku.core.tofu;

/**
 * One model's per-item numbers on one TOFU split and the split's three reported aggregates (docs/method.md §5.2).
 * Per-item arrays are in the split's item order; TOFU's per-example log fields are {@code avg_gt_loss}
 * ({@link #answerLosses}), {@code avg_paraphrased_loss} ({@link #pivotLosses}), {@code average_perturb_loss}
 * ({@link #perturbedLosses}) and {@code rougeL_recall} ({@link #rougeRecalls}).
 *
 * @param name the split's name
 * @param kind its aggregation family
 * @param substituted whether pivot and perturbed answers are the substitute, not TOFU's own
 * @param answerLosses mean NLL per answer token of the true answer
 * @param pivotLosses the same for the truth ratio's pivot answer
 * @param perturbedLosses the same for each perturbed answer, [item][perturbation]
 * @param rougeRecalls ROUGE-L recall of the greedy answer against the true one
 */
public record TofuSplitScores(String name, TofuSplit.Kind kind, boolean substituted, double[] answerLosses,
                              double[] pivotLosses, double[][] perturbedLosses, double[] rougeRecalls) {

    public TofuSplitScores {
        int n = answerLosses.length;
        if (n == 0 || pivotLosses.length != n || perturbedLosses.length != n || rougeRecalls.length != n) {
            throw new IllegalArgumentException("per-item arrays must be non-empty and of equal length");
        }
    }

    public int size() {
        return answerLosses.length;
    }

    /** Per-item truth ratio R (see {@link TofuMetrics#truthRatio}). */
    public double[] truthRatios() {
        double[] r = new double[size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = TofuMetrics.truthRatio(pivotLosses[i], perturbedLosses[i]);
        }
        return r;
    }

    /** Mean answer probability: exp(−L) on forget and retain, normalised over the perturbations on real-world sets. */
    public double probability() {
        double sum = 0;
        for (int i = 0; i < size(); i++) {
            sum += kind == TofuSplit.Kind.REAL_WORLD
                    ? TofuMetrics.normalisedProbability(answerLosses[i], perturbedLosses[i])
                    : TofuMetrics.probability(answerLosses[i]);
        }
        return sum / size();
    }

    /** Mean ROUGE-L recall. */
    public double rougeL() {
        double sum = 0;
        for (double r : rougeRecalls) {
            sum += r;
        }
        return sum / size();
    }

    /** The truth ratio as reported for this split's kind. */
    public double truthRatio() {
        return TofuMetrics.reportedTruthRatio(kind, truthRatios());
    }
}
