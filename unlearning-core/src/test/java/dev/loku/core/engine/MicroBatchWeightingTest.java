package dev.loku.core.engine;

import static dev.loku.core.testing.LoraPerturbation.perturbB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.bench.MemoryBench;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.lora.LoraConfig;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.model.DecoderModel;
import dev.loku.core.model.LiveArrays;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.objective.TermCounts;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.objective.UnlearningObjective;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.train.GradientAccumulator;
import dev.loku.core.train.Gradients;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Token-weighted micro-batches (docs/engine.md "Micro-batch weighting") on stories260K with LoRA adapters: an epoch
 * of micro-batches with very unequal token counts accumulates the gradient and loss of one mean over the whole
 * forget set (and, for the retain term, over all the retain partners), computed independently as a single batch of
 * every record; equal weighting stays the plain mean of the micro-batch losses and, with such micro-batches, does
 * not give the single batch's gradient.
 */
class MicroBatchWeightingTest {

    /** Same operations on differently padded batches, summed in another order: a few ulps of the largest entry. */
    private static final double RELATIVE_TOLERANCE = 1e-6;
    /**
     * The losses are float32 sums of terms up to about 20 nats (NPO's), whose ulp is 2e-6, and GD's total is a
     * difference of two such terms: a few ulps of the terms, absolute.
     */
    private static final double LOSS_TOLERANCE = 1e-5;

    /** Micro-batches of 2: (8, 30), (12, 40), (9) tokens long, i.e. 36, 50 and 8 label tokens. */
    private static final int[] FORGET_LENGTHS = {9, 31, 13, 41, 10};
    private static final int[] RETAIN_LENGTHS = {21, 7, 34, 11, 16};
    private static final int BATCH_SIZE = 2;

    /**
     * KL is left out: its retain term is a batch-mean over every padded position, and one batch of every record pads
     * to the longest one, so no single batch computes what its weighting accumulates.
     */
    @ParameterizedTest
    @EnumSource(value = UnlearningMethod.class, names = {"IHL", "GA", "GD", "NPO", "IDK"})
    void tokenWeightingAccumulatesTheGradientOfOneMeanOverTheWholeForgetSet(UnlearningMethod method)
            throws Exception {
        try (DecoderModel model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
                LoraWeights weights = new LoraWeights(LoraModel.attach(model, LoraConfig.defaults(4), 3), false,
                        "stories260K")) {
            Map<String, NDArray> params = weights.parameters();
            perturbB(params, 0.05f, 11); // B starts at 0, which would leave every A gradient 0
            int vocab = model.config().vocabSize();
            List<EncodedExample> forget = examples(vocab, 1, FORGET_LENGTHS);
            List<EncodedExample> partners = examples(vocab, 2, RETAIN_LENGTHS);
            UnlearningObjective objective = method.objective();
            ReferenceModel reference = objective.needs().referenceModel() ? weights.reference() : null;
            List<EncodedExample> retain = objective.needs().retainBatch() ? partners : null;

            // The independent computation: the objective on one batch of every forget record and every partner.
            ObjectiveStep step = new ObjectiveStep(model, reference, objective);
            double wholeLoss = step.backward(forget, retain);
            Map<String, float[]> whole = gradients(params);

            int live = LiveArrays.count();
            Epoch tokens = epoch(model, reference, weights, objective, forget, partners, MicroBatchWeighting.TOKENS);
            assertEquals(live, LiveArrays.count(), method + ": a token-weighted epoch leaves no array behind");
            Epoch equal = epoch(model, reference, weights, objective, forget, partners, MicroBatchWeighting.EQUAL);

            assertEquals(wholeLoss, tokens.loss(), LOSS_TOLERANCE,
                    method + ": the token-weighted epoch loss is the one-batch loss");
            double largest = largest(whole);
            assertTrue(largest > 1e-4, method + ": the step has gradients to compare (largest " + largest + ")");
            double tokensOff = largestDifference(whole, tokens.gradients());
            assertTrue(tokensOff <= RELATIVE_TOLERANCE * largest, method + ": token-weighted gradient is "
                    + tokensOff + " off the one-batch gradient (largest entry " + largest + ")");

            // Equal weighting: the plain mean of the micro-batch losses, and (unequal micro-batches) another step.
            double sum = 0;
            List<List<EncodedExample>> chunks = ModelBatches.chunks(forget, BATCH_SIZE);
            List<List<EncodedExample>> retainChunks = ModelBatches.chunks(partners, BATCH_SIZE);
            for (int c = 0; c < chunks.size(); c++) {
                sum += step.value(chunks.get(c), retain == null ? null : retainChunks.get(c));
            }
            assertEquals(sum / chunks.size(), equal.loss(), 0.0, method + ": equal weighting is the mean of the"
                    + " micro-batch losses");
            double equalOff = largestDifference(whole, equal.gradients());
            assertTrue(equalOff > 100 * RELATIVE_TOLERANCE * largest, method + ": equal weighting should differ from"
                    + " one token mean on these micro-batches, but is only " + equalOff + " off");
        }
    }

    /**
     * What each objective's terms are weighted by: label tokens, except NPO's per-sequence term (sequences), KL's
     * batch-mean (every padded position, B·T) and idk's joint token mean (forget and retain tokens together).
     */
    @Test
    void eachObjectiveCountsWhatItsTermsDivideBy() {
        var forget = ModelBatches.of(examples(512, 1, new int[] {9, 31}), 0); // 8 + 30 label tokens
        var retain = ModelBatches.of(examples(512, 2, new int[] {21, 7}), 0); // 20 + 6, padded to 2 × 21
        assertEquals(new TermCounts(38, 26), UnlearningMethod.IHL.objective().counts(forget, retain));
        assertEquals(new TermCounts(38, 26), UnlearningMethod.GD.objective().counts(forget, retain));
        assertEquals(new TermCounts(38, 0), UnlearningMethod.GA.objective().counts(forget, null));
        assertEquals(new TermCounts(2, 26), UnlearningMethod.NPO.objective().counts(forget, retain));
        assertEquals(new TermCounts(38, 42), UnlearningMethod.KL.objective().counts(forget, retain));
        assertEquals(new TermCounts(64, 64), UnlearningMethod.IDK.objective().counts(forget, retain));
    }

    private record Epoch(double loss, Map<String, float[]> gradients) {}

    /** One epoch's loss and accumulated gradient, as the unlearning loop computes it before its Adam step. */
    private static Epoch epoch(DecoderModel model, ReferenceModel reference, LoraWeights weights,
                               UnlearningObjective objective, List<EncodedExample> forget,
                               List<EncodedExample> partners, MicroBatchWeighting weighting) throws Exception {
        UnlearnSettings settings = UnlearnSettings.loku().withMethod(objective.method()).withFila(false)
                .withLoraRank(4).withBatchSize(BATCH_SIZE).withRefusals(List.of("I don't know."));
        UnlearningLoop loop = new UnlearningLoop(model, reference, weights, objective, forget, forget, partners,
                settings, new RecordSetEvaluator(), EpochEvaluation.EVERY_EPOCH, weighting);
        try (NDManager scope = model.manager().newSubManager();
                GradientAccumulator accumulator = new GradientAccumulator(scope,
                        ModelBatches.chunks(forget, BATCH_SIZE).size())) {
            double loss = loop.epochLoss(partners, accumulator);
            Map<String, float[]> out = new LinkedHashMap<>();
            accumulator.gradients().forEach((name, g) -> out.put(name, g.toFloatArray()));
            return new Epoch(loss, out);
        }
    }

    /** The gradients on the parameters as Java arrays, then zeroed. */
    private static Map<String, float[]> gradients(Map<String, NDArray> params) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Map<String, NDArray> grads = Gradients.of(params);
        grads.forEach((name, g) -> out.put(name, g.toFloatArray()));
        grads.values().forEach(NDArray::close);
        Gradients.zero(params.values());
        return out;
    }

    private static double largest(Map<String, float[]> gradients) {
        double largest = 0;
        for (float[] g : gradients.values()) {
            for (float v : g) {
                largest = Math.max(largest, Math.abs(v));
            }
        }
        return largest;
    }

    private static double largestDifference(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        double largest = 0;
        for (Map.Entry<String, float[]> e : a.entrySet()) {
            float[] x = e.getValue();
            float[] y = b.get(e.getKey());
            assertEquals(x.length, y.length, e.getKey());
            for (int i = 0; i < x.length; i++) {
                largest = Math.max(largest, Math.abs(x[i] - y[i]));
            }
        }
        return largest;
    }

    /** Random sequences of the given lengths (a BOS, then labelled tokens), seeded. */
    private static List<EncodedExample> examples(int vocab, long seed, int[] lengths) {
        Random random = new Random(seed);
        List<EncodedExample> out = new ArrayList<>();
        for (int length : lengths) {
            out.addAll(MemoryBench.examples(random, vocab, 1, length));
        }
        return out;
    }
}
