package dev.loku.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.JsonlRecords;
import dev.loku.core.data.QaRecord;
import dev.loku.core.data.TrainingRecord;
import dev.loku.core.metrics.ContinuationGenerator;
import dev.loku.core.metrics.ExtractionLikelihood;
import dev.loku.core.metrics.ExtractionTarget;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.testing.ProjectFiles;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RecordSetEvaluator} on stories260K against the metrics computed naively: one record at a time, argmax and
 * log-softmax in Java from that record's own logits, and EL_10 by {@link ExtractionLikelihood#naivePerSequence}
 * with one un-batched generation per prefix.
 */
@SuppressWarnings("try")
class RecordSetEvaluatorTest {

    private static CausalLm model;
    private static List<EncodedExample> examples;

    @BeforeAll
    static void load() throws Exception {
        model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
        List<TrainingRecord> records = new ArrayList<>(
                JsonlRecords.read(ProjectFiles.data("stories/stories.jsonl")).subList(0, 5));
        // A question/answer pair: the question is context, only the answer (and EOS) are measured.
        records.add(new QaRecord("What did Tom have?", "Tom had a red kite and he ran up the hill.", 99));
        // Lengths differ, so the batches are padded; 40 tokens keep the naive EL quick.
        examples = new ExampleEncoder(model.tokenizer(), 40).encodeAll(records, "test");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void teacherForcedMetricsMatchANaivePerRecordComputation() throws Exception {
        RecordSetScores scores = new RecordSetEvaluator(4, 64).score(model, examples, false);

        double maSum = 0;
        double nllSum = 0;
        long tokens = 0;
        int vocab = model.config().vocabSize();
        for (EncodedExample e : examples) {
            float[] logits;
            TokenBatch single = TokenBatch.of(List.of(e.inputIds()), TokenBatch.Padding.RIGHT, 0);
            try (NoGrad ignored = NoGrad.enter(); NDManager m = model.manager().newSubManager()) {
                logits = model.logits(m, single).toFloatArray();
            }
            int hits = 0;
            int kept = 0;
            for (int t = 1; t < e.length(); t++) {
                int label = e.labels()[t];
                if (label == CausalLmLoss.IGNORE_INDEX) {
                    continue;
                }
                int row = (t - 1) * vocab;
                int best = 0;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) {
                    if (logits[row + v] > max) {
                        max = logits[row + v];
                        best = v;
                    }
                }
                double z = 0;
                for (int v = 0; v < vocab; v++) {
                    z += Math.exp(logits[row + v] - max);
                }
                nllSum += -(logits[row + label] - max - Math.log(z));
                tokens++;
                kept++;
                if (best == label) {
                    hits++;
                }
            }
            maSum += (double) hits / kept;
        }
        assertEquals(examples.size(), scores.records());
        assertEquals(maSum / examples.size(), scores.ma(), 1e-12, "MA");
        assertEquals(nllSum / tokens, scores.nll(), 1e-4, "NLL per token");
        assertTrue(Double.isNaN(scores.el10()), "EL_10 is not measured when not asked for");
        assertTrue(scores.ma() > 0.2 && scores.ma() < 1, "stories260K knows these stories somewhat: " + scores.ma());
    }

    @Test
    void extractionLikelihoodMatchesTheNaiveDefinition() throws Exception {
        List<ExtractionTarget> targets = examples.stream().map(EncodedExample::extractionTarget).toList();
        ContinuationGenerator oneByOne = (prefixes, maxNew) -> model.generateGreedy(prefixes, maxNew, true);
        // EL_10 of the untrained stories is 0; EL_3 exercises the overlap counting with non-zero values. EL_10 is
        // the same code with another n.
        double[] naive = ExtractionLikelihood.naivePerSequence(targets, 3, oneByOne);
        double expected = 0;
        for (double v : naive) {
            expected += v;
        }
        expected /= naive.length;

        // A generation batch smaller than the prefix count, so several batched calls mix records.
        double batched = new RecordSetEvaluator(4, 50, 3).extractionLikelihood(model, examples);
        assertEquals(expected, batched, 1e-12);
        assertTrue(expected > 0.01, "stories260K continues some prefixes with the true trigrams: " + expected);
        assertEquals(batched, new RecordSetEvaluator(32, 256, 3).score(model, examples, true).el10(), 1e-12);
    }

    @Test
    void anInterruptStopsTheEvaluationWithInterruptedException() {
        Thread.currentThread().interrupt();
        try {
            org.junit.jupiter.api.Assertions.assertThrows(InterruptedException.class,
                    () -> new RecordSetEvaluator().score(model, examples, true));
        } finally {
            Thread.interrupted();
        }
    }
}
