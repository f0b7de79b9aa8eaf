package dev.loku.core.objective;

import java.util.Random;

/**
 * Independent double-precision versions of the docs/method.md formulas over plain Java arrays, written from that page
 * text only, for the tests to compare the NDArray code against.
 */
final class PlainLm {

    static final int IGNORE = -100;

    final int b;
    final int t;
    final int v;
    final float[] logits; // [b][t][v] row-major
    final long[] labels; // [b][t]

    PlainLm(int b, int t, int v, float[] logits, long[] labels) {
        this.b = b;
        this.t = t;
        this.v = v;
        this.logits = logits;
        this.labels = labels;
    }

    static float[] randomLogits(Random rnd, int b, int t, int v, double scale) {
        float[] z = new float[b * t * v];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (rnd.nextGaussian() * scale);
        }
        return z;
    }

    double z(int bi, int ti, int vi) {
        return logits[(bi * t + ti) * v + vi];
    }

    long label(int bi, int ti) {
        return labels[bi * t + ti];
    }

    double[] softmax(int bi, int ti) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) {
            max = Math.max(max, z(bi, ti, j));
        }
        double sum = 0;
        double[] p = new double[v];
        for (int j = 0; j < v; j++) {
            p[j] = Math.exp(z(bi, ti, j) - max);
            sum += p[j];
        }
        for (int j = 0; j < v; j++) {
            p[j] /= sum;
        }
        return p;
    }

    double[] logSoftmax(int bi, int ti) {
        double[] p = softmax(bi, ti);
        double[] lp = new double[v];
        for (int j = 0; j < v; j++) {
            lp[j] = Math.log(p[j]);
        }
        return lp;
    }

    /** The label predicted from position ti (i.e. labels[:, ti+1]), or IGNORE. */
    long target(int bi, int ti) {
        return label(bi, ti + 1);
    }

    int keptCount() {
        int n = 0;
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t - 1; ti++) {
                if (target(bi, ti) != IGNORE) {
                    n++;
                }
            }
        }
        return n;
    }

    double meanNll() {
        double sum = 0;
        int n = 0;
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t - 1; ti++) {
                long y = target(bi, ti);
                if (y != IGNORE) {
                    sum -= logSoftmax(bi, ti)[(int) y];
                    n++;
                }
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    double[] sequenceNllSums() {
        double[] out = new double[b];
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t - 1; ti++) {
                long y = target(bi, ti);
                if (y != IGNORE) {
                    out[bi] -= logSoftmax(bi, ti)[(int) y];
                }
            }
        }
        return out;
    }

    /** 1 + p_y - max_{v != y} p_v at one position (docs/method.md §1.1). */
    double hinge(int bi, int ti) {
        double[] p = softmax(bi, ti);
        int y = (int) target(bi, ti);
        double best = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) {
            if (j != y) {
                best = Math.max(best, p[j]);
            }
        }
        return 1 + p[y] - best;
    }

    double ihlMean() {
        double sum = 0;
        int n = 0;
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t - 1; ti++) {
                if (target(bi, ti) != IGNORE) {
                    sum += hinge(bi, ti);
                    n++;
                }
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    /** d IHL_mean / d z, from the closed form of docs/method.md §1.4 divided by the kept count. */
    double[] ihlGradient() {
        double[] g = new double[b * t * v];
        int n = keptCount();
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t - 1; ti++) {
                long yl = target(bi, ti);
                if (yl == IGNORE) {
                    continue;
                }
                int y = (int) yl;
                double[] p = softmax(bi, ti);
                int m = -1;
                for (int j = 0; j < v; j++) {
                    if (j != y && (m < 0 || p[j] > p[m])) {
                        m = j;
                    }
                }
                for (int j = 0; j < v; j++) {
                    double d = -p[j] * (p[y] - p[m]);
                    if (j == y) {
                        d += p[y];
                    }
                    if (j == m) {
                        d -= p[m];
                    }
                    g[(bi * t + ti) * v + j] = d / n;
                }
            }
        }
        return g;
    }

    /** KL(p_ref || p) summed over every position (no mask, no shift) and divided by b*t. */
    static double batchMeanKl(PlainLm reference, PlainLm model) {
        double sum = 0;
        for (int bi = 0; bi < model.b; bi++) {
            for (int ti = 0; ti < model.t; ti++) {
                double[] pr = reference.softmax(bi, ti);
                double[] lr = reference.logSoftmax(bi, ti);
                double[] lq = model.logSoftmax(bi, ti);
                for (int j = 0; j < model.v; j++) {
                    sum += pr[j] * (lr[j] - lq[j]);
                }
            }
        }
        return sum / (model.b * model.t);
    }
}
