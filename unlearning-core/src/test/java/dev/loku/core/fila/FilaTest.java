package dev.loku.core.fila;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FilaTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    // ---- independent double-precision helpers (EJML used directly, not through the code under test) ----

    private static double[][] gaussian(Random rnd, int rows, int cols, double scale) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) {
                row[j] = rnd.nextGaussian() * scale;
            }
        }
        return m;
    }

    private NDArray nd(double[][] m) {
        float[] f = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                f[i * m[0].length + j] = (float) m[i][j];
            }
        }
        return manager.create(f, new Shape(m.length, m[0].length));
    }

    private static double[][] matrix(NDArray a) {
        int rows = (int) a.getShape().get(0);
        int cols = (int) a.getShape().get(1);
        float[] f = a.toFloatArray();
        double[][] m = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                m[i][j] = f[i * cols + j];
            }
        }
        return m;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                for (int j = 0; j < b[0].length; j++) {
                    c[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return c;
    }

    /** ||diag(w) (A - B)||_F. */
    private static double weightedError(double[] w, double[][] a, double[][] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                double e = w[i] * (a[i][j] - b[i][j]);
                sum += e * e;
            }
        }
        return Math.sqrt(sum);
    }

    private static double frobenius(double[][] a) {
        double[] ones = new double[a.length];
        java.util.Arrays.fill(ones, 1);
        return weightedError(ones, a, new double[a.length][a[0].length]);
    }

    /** Plain (unweighted) best rank-r approximation of w, straight from EJML. */
    private static double[][] plainTruncatedSvd(double[][] w, int r) {
        DMatrixRMaj m = new DMatrixRMaj(w);
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(m.numRows, m.numCols, true, true, true);
        svd.decompose(m.copy());
        DMatrixRMaj u = svd.getU(null, false);
        DMatrixRMaj s = svd.getW(null);
        DMatrixRMaj v = svd.getV(null, false);
        org.ejml.dense.row.SingularOps_DDRM.descendingOrder(u, false, s, v, false);
        for (int i = r; i < s.numRows; i++) {
            s.set(i, i, 0);
        }
        DMatrixRMaj us = new DMatrixRMaj(u.numRows, s.numCols);
        CommonOps_DDRM.mult(u, s, us);
        DMatrixRMaj out = new DMatrixRMaj(w.length, w[0].length);
        CommonOps_DDRM.multTransB(us, v, out);
        double[][] res = new double[w.length][w[0].length];
        for (int i = 0; i < w.length; i++) {
            for (int j = 0; j < w[0].length; j++) {
                res[i][j] = out.get(i, j);
            }
        }
        return res;
    }

    private static double[] singularValues(double[][] m) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(m.length, m[0].length, false, false, true);
        svd.decompose(new DMatrixRMaj(m));
        double[] s = svd.getSingularValues().clone();
        java.util.Arrays.sort(s);
        for (int i = 0; i < s.length / 2; i++) {
            double t = s[i];
            s[i] = s[s.length - 1 - i];
            s[s.length - 1 - i] = t;
        }
        return s;
    }

    /** Importance with strongly uneven rows: some rows matter 10^4 times more to the forget set. */
    private static double[][] unevenImportance(Random rnd, int d, int k) {
        double[][] f = new double[d][k];
        for (int i = 0; i < d; i++) {
            double rowScale = i % 3 == 0 ? 100.0 : 0.01;
            for (int j = 0; j < k; j++) {
                f[i][j] = rowScale * (0.5 + rnd.nextDouble());
            }
        }
        return f;
    }

    // ---- tests ----

    @Test
    void relativeImportanceDividesTheForgetMeanByEpsilonPlusTheRetainMean() {
        NDArray ff = manager.create(new float[] {2f, 4f, 6f});
        NDArray fr = manager.create(new float[] {0f, 3f, 30f});
        float[] got = RelativeImportance.of(ff, 2, fr, 3).toFloatArray();
        assertEquals(1 / 1e-5, got[0], 1e-1);
        assertEquals(2 / (1 + 1e-5), got[1], 1e-6);
        assertEquals(3 / (10 + 1e-5), got[2], 1e-6);
        assertThrows(IllegalArgumentException.class, () -> RelativeImportance.of(ff, 0, fr, 3));
    }

    @Test
    void rowWeightsFollowOutputRowsNotInputColumns() {
        // 2 x 4, row sums 4 and 16, column sums 5, 5, 5, 5: a column-wise implementation gives 4 equal weights.
        NDArray rel = manager.create(new float[] {1, 1, 1, 1, 4, 4, 4, 4}, new Shape(2, 4));
        NDArray w = RelativeImportance.rowWeights(rel);
        assertEquals(new Shape(2), w.getShape());
        assertArrayEquals(new float[] {2f, 4f}, w.toFloatArray(), 1e-6f);
        // Square case: row sums {3, 12, 21}, column sums {9, 12, 15}.
        NDArray square = manager.create(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8}, new Shape(3, 3));
        assertArrayEquals(new float[] {(float) Math.sqrt(3), (float) Math.sqrt(12), (float) Math.sqrt(21)},
                RelativeImportance.rowWeights(square).toFloatArray(), 1e-6f);
    }

    @Test
    void residualPlusScaledAdapterReproducesTheWeight() {
        Random rnd = new Random(1);
        double[][] w = gaussian(rnd, 24, 40, 0.2);
        double[][] rel = unevenImportance(rnd, 24, 40);
        int r = 4;
        double alpha = 2 * r; // s = 2, so forgetting the scaling anywhere breaks the identity
        for (TruncatedSvd svd : new TruncatedSvd[] {new ExactSvd(), new RandomizedSvd(5, 2, 42)}) {
            try (FilaFactors f = new FilaInitializer(svd).initialize(nd(w), nd(rel), r, alpha)) {
                assertEquals(new Shape(r, 40), f.loraA().getShape());
                assertEquals(new Shape(24, r), f.loraB().getShape());
                assertEquals(2.0, f.scaling());
                double[][] ba = multiply(matrix(f.loraB()), matrix(f.loraA()));
                double[][] res = matrix(f.residualWeight());
                double[][] diff = new double[24][40];
                for (int i = 0; i < 24; i++) {
                    for (int j = 0; j < 40; j++) {
                        diff[i][j] = f.scaling() * ba[i][j] + res[i][j] - w[i][j];
                    }
                }
                assertTrue(frobenius(diff) / frobenius(w) < 1e-4, "relative error " + frobenius(diff) / frobenius(w));
                assertTrue(frobenius(ba) > 0.1 * frobenius(w), "the adapter must carry a real part of W");
            }
        }
    }

    @Test
    void singularValuesAreDividedByTheScalingBeforeTheSplit() {
        Random rnd = new Random(2);
        double[][] w = gaussian(rnd, 12, 9, 1.0);
        double[][] rel = unevenImportance(rnd, 12, 9);
        int r = 3;
        double s = 4.0 / r;
        try (FilaFactors f = new FilaInitializer(new ExactSvd()).initialize(nd(w), nd(rel), r, 4.0)) {
            // A0 = (V sqrt(S/s))^T with orthonormal V, so A0 A0^T = diag(S/s), S the singular values of diag(w) W.
            double[] weights = new double[12];
            double[][] m = new double[12][9];
            for (int i = 0; i < 12; i++) {
                for (double x : rel[i]) {
                    weights[i] += x;
                }
                weights[i] = Math.sqrt(weights[i]);
                for (int j = 0; j < 9; j++) {
                    m[i][j] = weights[i] * w[i][j];
                }
            }
            double[] sv = singularValues(m);
            double[][] a = matrix(f.loraA());
            double[][] aat = multiply(a, transpose(a));
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < r; j++) {
                    double want = i == j ? sv[i] / s : 0;
                    assertEquals(want, aat[i][j], 1e-4 * sv[0], "A0 A0^T[" + i + "," + j + "]");
                }
            }
            assertArrayEquals(toFloat(weights), f.rowWeights().toFloatArray(), 1e-4f);
        }
    }

    @Test
    void filaIsNoWorseThanPlainTruncatedSvdUnderTheFisherRowWeights() {
        Random rnd = new Random(3);
        int d = 30;
        int k = 20;
        int r = 4;
        double[][] w = gaussian(rnd, d, k, 1.0);
        double[][] rel = unevenImportance(rnd, d, k);
        double[] weights = new double[d];
        for (int i = 0; i < d; i++) {
            for (double x : rel[i]) {
                weights[i] += x;
            }
            weights[i] = Math.sqrt(weights[i]);
        }
        double plainError = weightedError(weights, w, plainTruncatedSvd(w, r));
        for (TruncatedSvd svd : new TruncatedSvd[] {new ExactSvd(), new RandomizedSvd(10, 2, 7)}) {
            try (FilaFactors f = new FilaInitializer(svd).initialize(nd(w), nd(rel), r, 2 * r)) {
                double[][] approx = multiply(matrix(f.loraB()), matrix(f.loraA()));
                for (double[] row : approx) {
                    for (int j = 0; j < k; j++) {
                        row[j] *= f.scaling();
                    }
                }
                double filaError = weightedError(weights, w, approx);
                assertTrue(filaError <= plainError * (1 + 1e-5),
                        "FILA " + filaError + " vs plain " + plainError);
                // With uneven rows the weighted optimum is clearly better, not just equal.
                assertTrue(filaError < 0.9 * plainError, "FILA " + filaError + " vs plain " + plainError);
            }
        }
    }

    @Test
    void randomizedAndExactAgreeOnADecayingSpectrum() {
        Random rnd = new Random(4);
        int d = 80;
        int k = 60;
        double[][] u = orthonormal(rnd, d, k);
        double[][] v = orthonormal(rnd, k, k);
        double[][] us = new double[d][k];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < k; j++) {
                us[i][j] = u[i][j] * Math.pow(0.6, j);
            }
        }
        double[][] m = multiply(us, transpose(v));
        int r = 6;
        try (SvdFactors exact = new ExactSvd().decompose(nd(m), r);
                SvdFactors rand = new RandomizedSvd(RandomizedSvd.DEFAULT_OVERSAMPLING, 2, 11).decompose(nd(m), r)) {
            float[] se = exact.s().toFloatArray();
            float[] sr = rand.s().toFloatArray();
            for (int i = 0; i < r; i++) {
                assertEquals(Math.pow(0.6, i), se[i], 1e-5, "exact singular value " + i);
                assertEquals(se[i], sr[i], 1e-4 * se[0], "randomised singular value " + i);
            }
            double[][] re = reconstruct(exact);
            double[][] rr = reconstruct(rand);
            double[][] diff = new double[d][k];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < k; j++) {
                    diff[i][j] = re[i][j] - rr[i][j];
                }
            }
            assertTrue(frobenius(diff) / frobenius(re) < 1e-4, "reconstructions differ by " + frobenius(diff));
        }
    }

    @Test
    void randomizedSvdIsDeterministicGivenTheSeed() {
        double[][] m = gaussian(new Random(5), 40, 30, 1.0);
        try (SvdFactors a = new RandomizedSvd(0, 2, 42).decompose(nd(m), 5);
                SvdFactors b = new RandomizedSvd(0, 2, 42).decompose(nd(m), 5)) {
            assertArrayEquals(a.u().toFloatArray(), b.u().toFloatArray());
            assertArrayEquals(a.s().toFloatArray(), b.s().toFloatArray());
            assertArrayEquals(a.v().toFloatArray(), b.v().toFloatArray());
        }
    }

    @Test
    void rankOutsideTheMatrixIsRejectedAndNothingLeaks() {
        NDArray w = nd(gaussian(new Random(6), 5, 3, 1.0));
        NDArray rel = nd(unevenImportance(new Random(7), 5, 3));
        assertThrows(IllegalArgumentException.class, () -> new ExactSvd().decompose(w, 4));
        assertThrows(IllegalArgumentException.class, () -> new RandomizedSvd(2, 1, 1).decompose(w, 0));
        int before = manager.getManagedArrays().size();
        for (int i = 0; i < 5; i++) {
            new FilaInitializer(TruncatedSvd.auto()).initialize(w, rel, 2, 4).close();
            new FilaInitializer(TruncatedSvd.auto(1, 3)).initialize(w, rel, 2, 4).close();
        }
        assertEquals(before, manager.getManagedArrays().size());
    }

    @Test
    void orthonormalColumnsSpanTheInputAndFallBackToHouseholderWhenTheColumnsAreDependent() {
        Random rnd = new Random(5);
        double[][] full = gaussian(rnd, 300, 12, 1.0);
        double[][] dependent = gaussian(rnd, 300, 12, 1.0);
        for (double[] row : dependent) {
            row[11] = row[3]; // rank 11 of 12: the Gram matrix is singular, Cholesky cannot go on
        }
        for (double[][] y : new double[][][] {full, dependent}) {
            double[][] q = matrix(Ejml.orthonormalColumns(manager, nd(y)));
            double[][] gram = multiply(transpose(q), q);
            for (int i = 0; i < 12; i++) {
                for (int j = 0; j < 12; j++) {
                    assertEquals(i == j ? 1 : 0, gram[i][j], 1e-5, "QᵀQ at " + i + "," + j);
                }
            }
            // Every column of Y lies in the span of Q: Y − Q(QᵀY) vanishes.
            double[][] residual = multiply(q, multiply(transpose(q), y));
            double worst = 0;
            for (int i = 0; i < y.length; i++) {
                for (int j = 0; j < 12; j++) {
                    worst = Math.max(worst, Math.abs(y[i][j] - residual[i][j]));
                }
            }
            assertTrue(worst < 1e-4, "Y outside the span of Q by " + worst);
        }
    }

    @Test
    void rowWeightsFromTheFisherSumsEqualTheRowSumsOfTheRelativeImportance() {
        Random rnd = new Random(9);
        double[][] forget = unevenImportance(rnd, 40, 30);
        double[][] retain = unevenImportance(rnd, 40, 30);
        NDArray f = nd(forget);
        NDArray r = nd(retain);
        float[] viaRelative = RelativeImportance.rowWeights(RelativeImportance.of(f, 700, r, 900)).toFloatArray();
        float[] direct = RelativeImportance.rowWeights(f, 700, r, 900).toFloatArray();
        for (int i = 0; i < 40; i++) {
            // Independent: sqrt of the row sum of (F_f / N_f) / (1e-5 + F_r / N_r), in double.
            double sum = 0;
            for (int j = 0; j < 30; j++) {
                sum += ((float) forget[i][j] / 700.0) / (1e-5 + (float) retain[i][j] / 900.0);
            }
            double expected = Math.sqrt(sum);
            assertEquals(expected, direct[i], 1e-5 * expected, "row " + i);
            assertEquals(viaRelative[i], direct[i], 1e-5 * expected, "row " + i);
        }
    }

    private static double[][] reconstruct(SvdFactors f) {
        double[][] u = matrix(f.u());
        float[] s = f.s().toFloatArray();
        for (double[] row : u) {
            for (int j = 0; j < s.length; j++) {
                row[j] *= s[j];
            }
        }
        return multiply(u, transpose(matrix(f.v())));
    }

    private static double[][] orthonormal(Random rnd, int rows, int cols) {
        DMatrixRMaj g = new DMatrixRMaj(gaussian(rnd, rows, cols, 1.0));
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(rows, cols);
        qr.decompose(g);
        DMatrixRMaj q = qr.getQ(null, true);
        double[][] out = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[i][j] = q.get(i, j);
            }
        }
        return out;
    }

    private static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
