package dev.loku.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.objective.ScoredBatch;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MemorisationMetricsTest {

    private static final int I = -100;

    private static TeacherForcedPredictions row(int[] predicted, int[] target) {
        return new TeacherForcedPredictions(predicted, target);
    }

    @Test
    void predictionsAreTheArgmaxOfEachPositionAgainstTheNextLabel() {
        Random rnd = new Random(3);
        int b = 3;
        int t = 7;
        int v = 6;
        float[] z = new float[b * t * v];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) rnd.nextGaussian();
        }
        long[] labels = {
            I, 1, 2, 3, 4, 5, 0,
            I, I, I, 2, 2, I, I,
            I, I, I, I, I, I, I,
        };
        try (NDManager m = NDManager.newBaseManager()) {
            List<TeacherForcedPredictions> rows = TeacherForcedPredictions.fromLogits(
                    m.create(z, new Shape(b, t, v)), m.create(labels, new Shape(b, t)));
            assertEquals(3, rows.size());
            for (int r = 0; r < b; r++) {
                int k = 0;
                for (int pos = 1; pos < t; pos++) {
                    long y = labels[r * t + pos];
                    if (y == I) {
                        continue;
                    }
                    int best = 0;
                    for (int j = 1; j < v; j++) {
                        if (z[(r * t + pos - 1) * v + j] > z[(r * t + pos - 1) * v + best]) {
                            best = j;
                        }
                    }
                    assertEquals(best, rows.get(r).predicted()[k], "row " + r + " position " + pos);
                    assertEquals(y, rows.get(r).target()[k]);
                    k++;
                }
                assertEquals(k, rows.get(r).size());
            }
            assertEquals(0, rows.get(2).size());
        }
    }

    @Test
    void memorisationAccuracyIsPerSequenceThenMean() {
        List<TeacherForcedPredictions> rows = List.of(
                row(new int[] {1, 2, 3, 9}, new int[] {1, 2, 3, 4}), // 3/4
                row(new int[] {0, 0}, new int[] {0, 1}), // 1/2
                row(new int[] {}, new int[] {})); // undefined, skipped
        assertEquals(0.75, MemorisationAccuracy.ofSequence(rows.get(0)));
        assertTrue(Double.isNaN(MemorisationAccuracy.ofSequence(rows.get(2))));
        // Per-sequence then mean: (0.75 + 0.5) / 2, not the pooled 4/6.
        assertEquals(0.625, MemorisationAccuracy.mean(rows), 1e-12);
    }

    @Test
    void exactMemorisationLeavesOutTheLastLabelledPosition() {
        // Labels end with EOS = 2; the EOS prediction is not scored by EM.
        TeacherForcedPredictions r = row(new int[] {5, 0, 7, 9}, new int[] {5, 6, 7, 2});
        assertEquals(2 / 3.0, ExactMemorisation.ofSequence(r), 1e-12);
        assertEquals(0.5, MemorisationAccuracy.ofSequence(r), 1e-12);
        assertTrue(Double.isNaN(ExactMemorisation.ofSequence(row(new int[] {1}, new int[] {1}))));
        assertEquals(2 / 3.0, ExactMemorisation.mean(List.of(r, row(new int[] {1}, new int[] {1}))), 1e-12);
    }

    @Test
    void extractionStrengthAsOpenUnlearningComputesIt() {
        int eos = 2;
        // N = 4 scored positions (the 5th, EOS, is dropped).
        assertEquals(1.0, ExtractionStrength.ofSequence(
                row(new int[] {1, 2, 3, 4, 0}, new int[] {1, 2, 3, 4, eos})), 1e-12, "whole answer reproduced");
        assertEquals(0.5, ExtractionStrength.ofSequence(
                row(new int[] {9, 9, 3, 4, 0}, new int[] {1, 2, 3, 4, eos})), 1e-12, "k = 2 of 4");
        assertEquals(0.25, ExtractionStrength.ofSequence(
                row(new int[] {9, 9, 9, 4, 0}, new int[] {1, 2, 3, 4, eos})), 1e-12, "only the last matches");
        assertEquals(0.25, ExtractionStrength.ofSequence(
                row(new int[] {9, 9, 9, 9, 0}, new int[] {1, 2, 3, 4, eos})), 1e-12,
                "upstream's loop leaves k = N-1 when nothing matches, so ES = 1/N, not 0");
        assertEquals(0.25, ExtractionStrength.ofSequence(
                row(new int[] {1, 2, 9, 4, 0}, new int[] {1, 2, 3, 4, eos})), 1e-12,
                "an early match does not count when a later token breaks the suffix");
        assertEquals(0.0, ExtractionStrength.ofSequence(row(new int[] {1}, new int[] {1})));
    }

    @Test
    void perplexityIsExpOfTheTokenWeightedMeanNll() {
        // Uniform logits over V = 4: every kept token has NLL ln 4, so perplexity is 4 whatever the batching.
        try (NDManager m = NDManager.newBaseManager()) {
            NllAccumulator acc = new NllAccumulator();
            acc.add(new ScoredBatch(m.zeros(new Shape(2, 3, 4)), m.create(new long[] {I, 1, 2, I, I, 3},
                    new Shape(2, 3))));
            acc.add(new ScoredBatch(m.zeros(new Shape(1, 5, 4)), m.create(new long[] {I, 0, 0, 0, 0},
                    new Shape(1, 5))));
            assertEquals(7, acc.tokens());
            assertEquals(Math.log(4), acc.meanNll(), 1e-6);
            assertEquals(4.0, acc.perplexity(), 1e-5);
            // Token weighting: 1 token at NLL 0 and 3 tokens at NLL 2 -> mean 1.5, not (0 + 2) / 2.
            NllAccumulator manual = new NllAccumulator();
            manual.add(0.0, 1);
            manual.add(6.0, 3);
            assertEquals(1.5, manual.meanNll(), 1e-12);
        }
        assertTrue(Double.isNaN(new NllAccumulator().meanNll()));
    }

    @Test
    void stopRuleNeedsBothMetricsStrictlyBelowTheUnseenThresholds() {
        Thresholds thr = Thresholds.measuredOnUnseen(0.30, 0.05);
        assertTrue(thr.reachedBy(0.29, 0.049));
        assertFalse(thr.reachedBy(0.29, 0.05), "EL equal to the threshold is not below it");
        assertFalse(thr.reachedBy(0.31, 0.0));
        assertFalse(thr.reachedBy(Double.NaN, 0.0));
        assertThrows(IllegalArgumentException.class, () -> Thresholds.measuredOnUnseen(Double.NaN, 0.1));
    }

    @Test
    void verdictCombinesForgettingAndRetainTolerance() {
        Thresholds thr = new Thresholds(0.30, 0.05);
        Verdict ok = Verdict.judge(thr, RetainTolerance.TEN_POINTS, 0.2, 0.01, 0.95, 0.86);
        assertTrue(ok.forgotten());
        assertTrue(ok.retainKept());
        assertTrue(ok.passed());
        Verdict lost = Verdict.judge(thr, RetainTolerance.TEN_POINTS, 0.2, 0.01, 0.95, 0.84);
        assertFalse(lost.retainKept(), "an 11-point drop exceeds 10 points");
        assertFalse(lost.passed());
        Verdict remembered = Verdict.judge(thr, RetainTolerance.TEN_POINTS, 0.5, 0.01, 0.95, 0.95);
        assertFalse(remembered.passed());
    }
}
