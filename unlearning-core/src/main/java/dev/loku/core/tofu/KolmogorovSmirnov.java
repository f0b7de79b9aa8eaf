package dev.loku.core.tofu;

import java.util.Arrays;

/**
 * The two-sample, two-sided Kolmogorov-Smirnov test as TOFU's forget quality uses it (scipy's {@code ks_2samp} with
 * its defaults, docs/method.md §5.2): the statistic D is the largest gap between the two empirical distribution functions,
 * and the p-value is exact, P(D' ≥ D) for two samples of these sizes drawn from one continuous distribution. That
 * probability is a count of monotone lattice paths from (0, 0) to (n, m) that touch the band |i/n − j/m| ≥ D (each
 * path is one interleaving of the pooled, sorted samples, and all are equally likely); the count is taken here as the
 * probability that a uniformly random path stays strictly inside, step by step, so no factorial ever overflows. D is
 * first rounded to the lattice of the sizes, as scipy does, so that D values equal up to floating-point error give
 * the same p-value.
 */
public final class KolmogorovSmirnov {

    private KolmogorovSmirnov() {
    }

    /** sup_x |F_a(x) − F_b(x)| over the pooled values. */
    public static double statistic(double[] a, double[] b) {
        check(a, b);
        double[] x = a.clone();
        double[] y = b.clone();
        Arrays.sort(x);
        Arrays.sort(y);
        double d = 0;
        int i = 0;
        int j = 0;
        while (i < x.length && j < y.length) {
            double v = Math.min(x[i], y[j]);
            while (i < x.length && x[i] <= v) {
                i++;
            }
            while (j < y.length && y[j] <= v) {
                j++;
            }
            d = Math.max(d, Math.abs((double) i / x.length - (double) j / y.length));
        }
        return d;
    }

    /** The exact two-sided p-value of {@link #statistic} for samples of these sizes (scipy's method 'exact'). */
    public static double pValue(double[] a, double[] b) {
        double d = statistic(a, b);
        return pValue(d, a.length, b.length);
    }

    /** P(D ≥ d) for sample sizes n and m under the null hypothesis. */
    public static double pValue(double d, int n, int m) {
        if (n < 1 || m < 1) {
            throw new IllegalArgumentException("both samples need at least one value, got " + n + " and " + m);
        }
        long g = gcd(n, m);
        long lcm = (long) n / g * m;
        long h = Math.round(d * lcm);
        if (h == 0) {
            return 1.0;
        }
        // |i/n - j/m| >= h/lcm  <=>  |i*m - j*n| >= h*g, in integers.
        long bound = h * g;
        // inside[j] = P(a random path reaches (i, j) without having touched the band), for the current i. The mass
        // that steps onto the band is added to the p-value there and then (all terms positive: a p-value of 1e-30
        // keeps its digits instead of vanishing in 1 - P(inside)).
        double outside = 0;
        double[] inside = new double[m + 1];
        inside[0] = 1.0;
        for (int j = 1; j <= m; j++) {
            double arriving = inside[j - 1] * stepProbability(0, j - 1, n, m, false);
            if (touches(0, j, n, m, bound)) {
                outside += arriving;
            } else {
                inside[j] = arriving;
            }
        }
        for (int i = 1; i <= n; i++) {
            double[] next = new double[m + 1];
            for (int j = 0; j <= m; j++) {
                double arriving = inside[j] * stepProbability(i - 1, j, n, m, true)
                        + (j > 0 ? next[j - 1] * stepProbability(i, j - 1, n, m, false) : 0);
                if (touches(i, j, n, m, bound)) {
                    outside += arriving;
                } else {
                    next[j] = arriving;
                }
            }
            inside = next;
        }
        return Math.max(0.0, Math.min(1.0, outside));
    }

    private static boolean touches(long i, long j, long n, long m, long bound) {
        return Math.abs(i * m - j * n) >= bound;
    }

    /** From (i, j), the chance that a uniformly random completion takes its next step along i (else along j). */
    private static double stepProbability(int i, int j, int n, int m, boolean alongI) {
        double leftI = n - i;
        double leftJ = m - j;
        return (alongI ? leftI : leftJ) / (leftI + leftJ);
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    private static void check(double[] a, double[] b) {
        if (a.length == 0 || b.length == 0) {
            throw new IllegalArgumentException("both samples need at least one value");
        }
        for (double[] s : new double[][] {a, b}) {
            for (double v : s) {
                if (Double.isNaN(v)) {
                    throw new IllegalArgumentException("a sample holds NaN");
                }
            }
        }
    }
}
