package dev.loku.core.tofu;

import java.util.ArrayList;
import java.util.List;

/**
 * TOFU's aggregate metrics from per-item losses (docs/method.md §5.2, as TOFU's {@code aggregate_eval_stat.py} and
 * open-unlearning compute them). A loss L is the mean negative log-likelihood per answer token (the answer's tokens
 * and the EOS after it) given the question; its normalised probability is exp(−L).
 */
public final class TofuMetrics {

    private TofuMetrics() {
    }

    /** exp(−L): the answer's per-token geometric-mean probability. */
    public static double probability(double loss) {
        return Math.exp(-loss);
    }

    /**
     * R = exp(mean_j L(perturbed_j) − L(pivot)) = P(pivot) / geometric-mean_j P(perturbed_j): above 1 when the model
     * prefers the pivot (true or paraphrased) answer to the wrong ones.
     */
    public static double truthRatio(double pivotLoss, double[] perturbedLosses) {
        if (perturbedLosses.length == 0) {
            throw new IllegalArgumentException("the truth ratio needs at least one perturbed answer");
        }
        double mean = 0;
        for (double l : perturbedLosses) {
            mean += l;
        }
        mean /= perturbedLosses.length;
        return Math.exp(mean - pivotLoss);
    }

    /** Probability on real-world splits: P(a) / (P(a) + Σ_j P(perturbed_j)). */
    public static double normalisedProbability(double answerLoss, double[] perturbedLosses) {
        double pa = probability(answerLoss);
        double all = pa;
        for (double l : perturbedLosses) {
            all += probability(l);
        }
        return all > 0 ? pa / all : 0.0;
    }

    /** The truth ratio as TOFU reports it for a split: mean min(R, 1/R) on forget, mean max(0, 1 − 1/R) elsewhere. */
    public static double reportedTruthRatio(TofuSplit.Kind kind, double[] ratios) {
        double sum = 0;
        for (double r : ratios) {
            sum += kind == TofuSplit.Kind.FORGET ? Math.min(r, 1 / r) : Math.max(0, 1 - 1 / r);
        }
        return sum / ratios.length;
    }

    /**
     * TOFU's model utility: the {@link HarmonicMean harmonic mean} of probability, ROUGE-L recall and truth ratio on
     * each of the retain, real-authors and world-facts splits (nine numbers; the forget split takes no part).
     */
    public static double modelUtility(List<TofuSplitScores> utilitySplits) {
        List<Double> parts = new ArrayList<>();
        for (TofuSplitScores s : utilitySplits) {
            if (s.kind() == TofuSplit.Kind.FORGET) {
                throw new IllegalArgumentException("model utility is computed without the forget split ('"
                        + s.name() + "')");
            }
            parts.add(s.probability());
            parts.add(s.rougeL());
            parts.add(s.truthRatio());
        }
        return HarmonicMean.of(parts.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * The two-sided two-sample Kolmogorov-Smirnov p-value between the forget split's per-item truth ratios under the
     * unlearned model and under a model never trained on it: near 1 when the two are indistinguishable. TOFU calls
     * this number forget quality when the ratios come from its own paraphrased and perturbed answers; on the
     * substitute answers of {@link TofuData} it is this test on another ratio, and is reported under that name.
     */
    public static double truthRatioKsPValue(TofuSplitScores unlearned, TofuSplitScores reference) {
        if (unlearned.size() != reference.size()) {
            throw new IllegalArgumentException("the KS test compares the same items under two models, got "
                    + unlearned.size() + " and " + reference.size() + " items");
        }
        return KolmogorovSmirnov.pValue(unlearned.truthRatios(), reference.truthRatios());
    }
}
