package dev.loku.core.metrics;

/**
 * The unlearning targets: the starting model's own memorisation accuracy and EL_10 on data it never saw
 * (Jang et al.'s thresholds; docs/method.md §3.2). Forgotten data should look no more memorised than unseen data.
 */
public record Thresholds(double ma, double el) {

    public Thresholds {
        if (Double.isNaN(ma) || Double.isNaN(el)) {
            throw new IllegalArgumentException("thresholds must be measured numbers; got MA " + ma + ", EL " + el
                    + " (is the unseen set empty or shorter than the EL n-gram size?)");
        }
    }

    /** The thresholds as measured on the unseen set: mean MA and mean EL_10 of the model before unlearning. */
    public static Thresholds measuredOnUnseen(double unseenMa, double unseenEl) {
        return new Thresholds(unseenMa, unseenEl);
    }

    /**
     * The stop rule (§3.2, §8.13): true once the forget set's mean MA <em>and</em> mean EL are both strictly below
     * the thresholds. A NaN metric never satisfies it.
     */
    public boolean reachedBy(double forgetMa, double forgetEl) {
        return forgetMa < ma && forgetEl < el;
    }
}
