package dev.loku.core.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ObjectivesTest {

    private static final int I = PlainLm.IGNORE;

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    /** B=3, T=6, V=7: row 0 fully kept after the prompt, row 1 entirely ignored, row 2 right-padded. */
    private static PlainLm forgetCase(long seed) {
        long[] labels = {
            I, 3, 0, 6, 2, 5,
            I, I, I, I, I, I,
            I, I, 4, 1, I, I,
        };
        return new PlainLm(3, 6, 7, PlainLm.randomLogits(new Random(seed), 3, 6, 7, 2.5), labels);
    }

    private static PlainLm retainCase(long seed) {
        long[] labels = {
            I, I, 2, 2, 6,
            I, 1, 5, 0, I,
        };
        return new PlainLm(2, 5, 7, PlainLm.randomLogits(new Random(seed), 2, 5, 7, 2.5), labels);
    }

    private ScoredBatch batch(PlainLm p) {
        return new ScoredBatch(logits(p), manager.create(p.labels, new Shape(p.b, p.t)));
    }

    private NDArray logits(PlainLm p) {
        return manager.create(p.logits, new Shape(p.b, p.t, p.v));
    }

    @Test
    void meanNllIsTheTokenMeanOverKeptShiftedLabels() {
        PlainLm p = forgetCase(1);
        assertEquals(p.meanNll(), CausalLmLoss.meanNll(batch(p)).getFloat(), 1e-5);
        double[] sums = p.sequenceNllSums();
        float[] got = CausalLmLoss.sequenceNllSums(batch(p)).toFloatArray();
        for (int i = 0; i < sums.length; i++) {
            assertEquals(sums[i], got[i], 1e-4, "sequence " + i);
        }
        assertEquals(0.0, got[1], 0.0, "a fully ignored row contributes nothing");
        assertEquals(p.keptCount(), CausalLmLoss.keptTokenCount(batch(p).labels()));
    }

    @Test
    void ihlMatchesThePlainDefinitionPositionByPosition() {
        PlainLm p = forgetCase(2);
        ScoredBatch b = batch(p);
        float[] per = InvertedHingeLoss.perPosition(b).toFloatArray();
        for (int bi = 0; bi < p.b; bi++) {
            for (int ti = 0; ti < p.t - 1; ti++) {
                if (p.target(bi, ti) != I) {
                    assertEquals(p.hinge(bi, ti), per[bi * (p.t - 1) + ti], 1e-5, "position " + bi + "," + ti);
                }
            }
        }
        assertEquals(p.ihlMean(), InvertedHingeLoss.mean(b).getFloat(), 1e-5);
    }

    @Test
    void ihlObjectiveAddsTheRetainNllWithWeightOne() {
        PlainLm f = forgetCase(3);
        PlainLm r = retainCase(4);
        ObjectiveLoss loss = new InvertedHingeLoss().compute(ObjectiveInputs.of(batch(f), batch(r)));
        assertEquals(f.ihlMean(), loss.forgetTerm().getFloat(), 1e-5);
        assertEquals(r.meanNll(), loss.retainTerm().getFloat(), 1e-5);
        assertEquals(f.ihlMean() + r.meanNll(), loss.total().getFloat(), 1e-5);
    }

    @Test
    void ihlGradientWrtLogitsIsTheClosedFormOfSpec14() {
        PlainLm p = forgetCase(5);
        NDArray z = logits(p);
        z.setRequiresGradient(true);
        ScoredBatch b = new ScoredBatch(z, manager.create(p.labels, new Shape(p.b, p.t)));
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(InvertedHingeLoss.mean(b));
        }
        float[] got = z.getGradient().toFloatArray();
        double[] want = p.ihlGradient();
        double maxAbs = 0;
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-6, "gradient element " + i);
            maxAbs = Math.max(maxAbs, Math.abs(want[i]));
        }
        assertTrue(maxAbs > 1e-3, "the test case must have non-trivial gradients");
        // The true token's logit is pushed down, the runner-up's up (§1.4).
        int y = (int) p.target(0, 0);
        assertTrue(got[y] > 0, "d/dz_y > 0 so descent lowers the true token");
    }

    @Test
    void gradientAscentAndDifferenceMatchPlainNll() {
        PlainLm f = forgetCase(6);
        PlainLm r = retainCase(7);
        ObjectiveLoss ga = new GradientAscent().compute(ObjectiveInputs.forgetOnly(batch(f)));
        assertEquals(-f.meanNll(), ga.total().getFloat(), 1e-5);
        assertNull(ga.retainTerm());
        ObjectiveLoss gd = new GradientDifference().compute(ObjectiveInputs.of(batch(f), batch(r)));
        assertEquals(-f.meanNll() + r.meanNll(), gd.total().getFloat(), 1e-5);
        assertEquals(-f.meanNll(), gd.forgetTerm().getFloat(), 1e-5);
    }

    @Test
    void klIsUnmaskedBatchMeanOverAllRetainPositions() {
        PlainLm f = forgetCase(8);
        PlainLm r = retainCase(9);
        PlainLm ref = new PlainLm(r.b, r.t, r.v, PlainLm.randomLogits(new Random(10), r.b, r.t, r.v, 2.5), r.labels);
        ObjectiveInputs in = new ObjectiveInputs(batch(f), batch(r), null, logits(ref));
        ObjectiveLoss kl = new RetainKlDivergence().compute(in);
        double want = PlainLm.batchMeanKl(ref, r);
        assertEquals(want, kl.retainTerm().getFloat(), 1e-5);
        assertEquals(-f.meanNll() + want, kl.total().getFloat(), 1e-5);
        assertEquals(0.0, RetainKlDivergence.batchMeanKl(logits(r), logits(r)).getFloat(), 1e-6);
    }

    @Test
    void npoMatchesThePlainFormulaWithReferenceSequenceSums() {
        PlainLm f = forgetCase(11);
        PlainLm r = retainCase(12);
        PlainLm ref = new PlainLm(f.b, f.t, f.v, PlainLm.randomLogits(new Random(13), f.b, f.t, f.v, 2.5), f.labels);
        double beta = 0.1;
        double[] cur = f.sequenceNllSums();
        double[] old = ref.sequenceNllSums();
        double mean = 0;
        for (int i = 0; i < f.b; i++) {
            double x = beta * (cur[i] - old[i]);
            mean += Math.log(1 / (1 + Math.exp(-x)));
        }
        mean /= f.b;
        double npo = -2 / beta * mean;
        ObjectiveInputs in = new ObjectiveInputs(batch(f), batch(r), logits(ref), null);
        ObjectiveLoss loss = new NpoGradientDifference().compute(in);
        assertEquals(npo, loss.forgetTerm().getFloat(), 1e-4);
        assertEquals(npo + r.meanNll(), loss.total().getFloat(), 1e-4);
        // At the reference point NPO is -(2/beta) log(1/2) = (2/beta) ln 2.
        ObjectiveInputs same = new ObjectiveInputs(batch(f), batch(r), logits(f), null);
        assertEquals(2 / beta * Math.log(2), new NpoGradientDifference().compute(same).forgetTerm().getFloat(), 1e-3);
    }

    @Test
    void logSigmoidIsStableForLargeArguments() {
        float[] got = NpoGradientDifference.logSigmoid(manager.create(new float[] {-200f, 0f, 200f})).toFloatArray();
        assertEquals(-200.0, got[0], 1e-3);
        assertEquals(Math.log(0.5), got[1], 1e-6);
        assertEquals(0.0, got[2], 1e-6);
    }

    @Test
    void singleSequenceWithBinaryVocabulary() {
        long[] labels = {I, 1, 0, 1};
        PlainLm p = new PlainLm(1, 4, 2, PlainLm.randomLogits(new Random(14), 1, 4, 2, 3.0), labels);
        assertEquals(p.ihlMean(), InvertedHingeLoss.mean(batch(p)).getFloat(), 1e-5);
        assertEquals(p.meanNll(), CausalLmLoss.meanNll(batch(p)).getFloat(), 1e-5);
        // With V = 2 the runner-up is the other token, so the hinge is 1 + p_y - (1 - p_y) = 2 p_y.
        double[] prob = p.softmax(0, 0);
        assertEquals(2 * prob[1], InvertedHingeLoss.perPosition(batch(p)).toFloatArray()[0], 1e-5);
    }

    @Test
    void aBatchWithNoKeptLabelGivesZeroLossAndZeroGradient() {
        long[] labels = {I, I, I, I, I, I};
        PlainLm p = new PlainLm(2, 3, 5, PlainLm.randomLogits(new Random(15), 2, 3, 5, 1.0), labels);
        NDArray z = logits(p);
        z.setRequiresGradient(true);
        ScoredBatch b = new ScoredBatch(z, manager.create(labels, new Shape(2, 3)));
        NDArray loss;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            loss = InvertedHingeLoss.mean(b).add(CausalLmLoss.meanNll(b));
            gc.backward(loss);
        }
        assertEquals(0f, loss.getFloat());
        for (float g : z.getGradient().toFloatArray()) {
            assertEquals(0f, g);
        }
    }

    @Test
    void needsTellTheTrainerWhichForwardPassesToRun() {
        assertEquals(new ObjectiveNeeds(true, false, false), new InvertedHingeLoss().needs());
        assertEquals(new ObjectiveNeeds(false, false, false), new GradientAscent().needs());
        assertEquals(new ObjectiveNeeds(true, false, false), new GradientDifference().needs());
        assertEquals(new ObjectiveNeeds(true, false, true), new RetainKlDivergence().needs());
        assertEquals(new ObjectiveNeeds(true, true, false), new NpoGradientDifference().needs());
        assertFalse(new InvertedHingeLoss().needs().referenceModel());
        assertTrue(new NpoGradientDifference().needs().referenceModel());
        for (UnlearningMethod method : UnlearningMethod.values()) {
            assertEquals(method, method.objective().method());
            assertEquals(method, UnlearningMethod.byId(method.id().toUpperCase(Locale.ROOT)));
        }
        assertEquals(List.of("ihl", "ga", "gd", "kl", "npo", "idk"), UnlearningMethod.ids());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UnlearningMethod.byId("dpo"));
        assertTrue(e.getMessage().contains("ihl, ga, gd, kl, npo, idk"), e.getMessage());
    }

    @Test
    void missingInputsAreNamed() {
        ScoredBatch f = batch(forgetCase(16));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new InvertedHingeLoss().compute(ObjectiveInputs.forgetOnly(f)));
        assertTrue(e.getMessage().contains("retain batch"), e.getMessage());
        ScoredBatch r = batch(retainCase(17));
        e = assertThrows(IllegalArgumentException.class,
                () -> new RetainKlDivergence().compute(ObjectiveInputs.of(f, r)));
        assertTrue(e.getMessage().contains("reference"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ObjectiveInputs(f, r, manager.zeros(new Shape(1, 2, 3)), null));
    }

    @Test
    void intermediatesAreClosedSoRepeatedStepsDoNotGrowTheManager() {
        PlainLm f = forgetCase(18);
        PlainLm r = retainCase(19);
        ScoredBatch fb = batch(f);
        ScoredBatch rb = batch(r);
        NDArray ref = logits(f);
        UnlearningObjective npo = new NpoGradientDifference();
        int before = manager.getManagedArrays().size();
        for (int i = 0; i < 20; i++) {
            ObjectiveLoss loss = npo.compute(new ObjectiveInputs(fb, rb, ref, null));
            loss.total().close();
            loss.forgetTerm().close();
            loss.retainTerm().close();
        }
        assertEquals(before, manager.getManagedArrays().size());
    }
}
