package dev.loku.core.tofu;

/**
 * The harmonic mean TOFU's model utility aggregates with (scipy's {@code hmean}, docs/method.md §5.2): n / Σ 1/x_i, and 0
 * as soon as one value is 0, so one lost ability cannot be averaged away.
 */
public final class HarmonicMean {

    private HarmonicMean() {
    }

    /**
     * @throws IllegalArgumentException for no values, a negative value or NaN
     */
    public static double of(double... values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("the harmonic mean of no values is undefined");
        }
        double inverseSum = 0;
        for (double v : values) {
            if (!(v >= 0)) {
                throw new IllegalArgumentException("the harmonic mean needs values >= 0, got " + v);
            }
            if (v == 0) {
                return 0.0;
            }
            inverseSum += 1.0 / v;
        }
        return values.length / inverseSum;
    }
}
