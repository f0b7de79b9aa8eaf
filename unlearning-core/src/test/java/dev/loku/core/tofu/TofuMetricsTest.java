package dev.loku.core.tofu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The TOFU metrics against independent computations: NLTK 3.10.3's Porter stemmer on every word of the TOFU data,
 * and ROUGE-L recall from a Python LCS table over rouge_score's tokenisation, both recorded by
 * {@code src/test/python/tofu_golden.py}; plus values worked out by hand.
 */
class TofuMetricsTest {

    @Test
    void porterStemmerAgreesWithNltkOnEveryWordOfTheTofuData() throws IOException {
        List<String[]> rows = tsv("porter-nltk.tsv");
        assertTrue(rows.size() > 3000, "the golden list holds the TOFU vocabulary");
        List<String> wrong = new ArrayList<>();
        for (String[] r : rows) {
            String got = PorterStemmer.stem(r[0]);
            if (!got.equals(r[1])) {
                wrong.add(r[0] + " -> " + got + " (NLTK " + r[1] + ")");
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void rougeLRecallByHand() {
        // reference "the cat sat on the mat", generated "the cat is on the mat": LCS 5 of 6 reference words.
        assertEquals(5.0 / 6, RougeL.recall("The cat sat on the mat.", "The cat is on the mat."), 1e-15);
        assertEquals(List.of("run", "runner", "ran", "quickli"), RougeL.tokens("Running runners ran quickly"));
        assertEquals(1.0, RougeL.recall("running", "He was running!"), 0);
        assertEquals(0.0, RougeL.recall("Anything at all.", ""), 0);
        assertEquals(0.0, RougeL.recall("?!", "anything"), 0);
        // Order matters: the reversed sequence shares only one word in order.
        assertEquals(1.0 / 5, RougeL.recall("a b c d e", "e d c b a"), 1e-15);
    }

    @Test
    void rougeLRecallAgreesWithTheIndependentPythonComputation() throws IOException {
        List<String[]> rows = tsv("rougel.tsv");
        assertTrue(rows.size() > 1000);
        for (String[] r : rows) {
            assertEquals(Double.parseDouble(r[2]), RougeL.recall(r[0], r[1]), 1e-12, r[0] + " | " + r[1]);
        }
    }

    @Test
    void ksExactSmallSamplesByHand() {
        // m = n = 2, fully separated: D = 1, and 2 of the C(4,2) = 6 paths reach |i/2 - j/2| = 1 -> p = 1/3.
        assertEquals(1.0 / 3, KolmogorovSmirnov.pValue(new double[] {0, 1}, new double[] {2, 3}), 1e-15);
        // m = n = 3, fully separated: 2 of C(6,3) = 20 paths -> p = 0.1.
        assertEquals(0.1, KolmogorovSmirnov.pValue(new double[] {0, 1, 2}, new double[] {5, 6, 7}), 1e-15);
        assertEquals(1.0, KolmogorovSmirnov.pValue(new double[] {1, 2, 3}, new double[] {1, 2, 3}), 0);
        // Invariant under a monotone map of both samples (R and 1/R give the same p-value).
        double[] a = {0.3, 1.7, 2.2, 0.9, 5.1};
        double[] b = {1.1, 0.2, 0.8, 3.3};
        double[] ia = Arrays.stream(a).map(x -> 1 / x).toArray();
        double[] ib = Arrays.stream(b).map(x -> 1 / x).toArray();
        assertEquals(KolmogorovSmirnov.pValue(a, b), KolmogorovSmirnov.pValue(ia, ib), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> KolmogorovSmirnov.pValue(new double[0], b));
        assertThrows(IllegalArgumentException.class,
                () -> KolmogorovSmirnov.pValue(new double[] {Double.NaN}, b));
    }

    @Test
    void truthRatioProbabilityAndHarmonicMeanByHand() {
        // R = exp(mean perturbed loss - pivot loss) = exp((2 + 4) / 2 - 1) = e^2.
        assertEquals(Math.exp(2), TofuMetrics.truthRatio(1.0, new double[] {2, 4}), 1e-12);
        assertEquals(Math.exp(-0.5), TofuMetrics.probability(0.5), 1e-15);
        // P(a) / (P(a) + sum P(perturbed)) with losses ln 2, ln 4, ln 4: (1/2) / (1/2 + 1/4 + 1/4) = 1/2.
        assertEquals(0.5, TofuMetrics.normalisedProbability(Math.log(2), new double[] {Math.log(4), Math.log(4)}),
                1e-12);
        double[] ratios = {2.0, 0.5, 1.0};
        // forget: mean min(R, 1/R) = (0.5 + 0.5 + 1) / 3; others: mean max(0, 1 - 1/R) = (0.5 + 0 + 0) / 3.
        assertEquals(2.0 / 3, TofuMetrics.reportedTruthRatio(TofuSplit.Kind.FORGET, ratios), 1e-15);
        assertEquals(0.5 / 3, TofuMetrics.reportedTruthRatio(TofuSplit.Kind.RETAIN, ratios), 1e-15);
        // 3 / (1/1 + 1/2 + 1/4) = 12/7; one zero collapses it to 0 as scipy's hmean.
        assertEquals(12.0 / 7, HarmonicMean.of(1.0, 2.0, 4.0), 1e-15);
        assertEquals(0.0, HarmonicMean.of(1.0, 0.0, 4.0), 0);
        assertThrows(IllegalArgumentException.class, () -> HarmonicMean.of(-1.0));
    }

    @Test
    void modelUtilityIsTheHarmonicMeanOfNineNumbersAndTheKsTestComparesTruthRatios() {
        TofuSplitScores retain = scores("retain", TofuSplit.Kind.RETAIN, new double[] {0.5, 1.0},
                new double[] {0.5, 1.0}, new double[][] {{1.5, 2.5}, {1.0, 3.0}}, new double[] {0.8, 0.6});
        TofuSplitScores ra = scores("real_authors", TofuSplit.Kind.REAL_WORLD, new double[] {1.0},
                new double[] {1.0}, new double[][] {{2.0, 2.0}}, new double[] {0.5});
        TofuSplitScores wf = scores("world_facts", TofuSplit.Kind.REAL_WORLD, new double[] {0.2},
                new double[] {0.2}, new double[][] {{0.2, 0.2}}, new double[] {1.0});
        // Retain: prob mean(e^-0.5, e^-1); rouge 0.7; R = e^(2-0.5), e^(2-1) -> mean(1 - e^-1.5, 1 - e^-1).
        double retainProb = (Math.exp(-0.5) + Math.exp(-1)) / 2;
        double retainTr = ((1 - Math.exp(-1.5)) + (1 - Math.exp(-1))) / 2;
        assertEquals(retainProb, retain.probability(), 1e-12);
        assertEquals(0.7, retain.rougeL(), 1e-12);
        assertEquals(retainTr, retain.truthRatio(), 1e-12);
        // Real authors: prob e^-1 / (e^-1 + 2 e^-2); R = e^(2-1) -> 1 - e^-1.
        double raProb = Math.exp(-1) / (Math.exp(-1) + 2 * Math.exp(-2));
        // World facts: every answer equally likely -> prob 1/3, R = 1 -> truth ratio 0, so utility collapses to 0.
        assertEquals(1.0 / 3, wf.probability(), 1e-12);
        assertEquals(0.0, TofuMetrics.modelUtility(List.of(retain, ra, wf)), 0);
        double expected = 6 / (1 / retainProb + 1 / 0.7 + 1 / retainTr + 1 / raProb + 1 / 0.5 + 1 / (1 - Math.exp(-1)));
        assertEquals(expected, TofuMetrics.modelUtility(List.of(retain, ra)), 1e-12);

        TofuSplitScores forget = scores("forget01", TofuSplit.Kind.FORGET, new double[] {0.1, 0.2, 0.3},
                new double[] {0.1, 0.2, 0.3}, new double[][] {{3.0}, {3.0}, {3.0}}, new double[] {1, 1, 1});
        TofuSplitScores reference = scores("forget01", TofuSplit.Kind.FORGET, new double[] {3.0, 3.1, 3.2},
                new double[] {3.0, 3.1, 3.2}, new double[][] {{3.0}, {3.0}, {3.0}}, new double[] {0, 0, 0});
        // Every unlearned ratio is above every reference ratio: D = 1, p = 2 / C(6,3) = 0.1.
        assertEquals(0.1, TofuMetrics.truthRatioKsPValue(forget, reference), 1e-15);
        assertEquals(1.0, TofuMetrics.truthRatioKsPValue(reference, reference), 0);
        assertThrows(IllegalArgumentException.class, () -> TofuMetrics.modelUtility(List.of(forget)));
    }

    private static TofuSplitScores scores(String name, TofuSplit.Kind kind, double[] answer, double[] pivot,
                                          double[][] perturbed, double[] rouge) {
        return new TofuSplitScores(name, kind, false, answer, pivot, perturbed, rouge);
    }

    static List<String[]> tsv(String resource) throws IOException {
        List<String[]> rows = new ArrayList<>();
        try (InputStream in = TofuMetricsTest.class.getResourceAsStream("/tofu/" + resource)) {
            if (in == null) {
                throw new IOException("missing test resource tofu/" + resource);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.startsWith("#") && !line.isEmpty()) {
                    rows.add(line.split("\t", -1));
                }
            }
        }
        return rows;
    }
}
