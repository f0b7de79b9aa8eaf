package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.metrics.ContinuationGenerator;
import dev.loku.core.metrics.ExactMemorisation;
import dev.loku.core.metrics.ExtractionLikelihood;
import dev.loku.core.metrics.ExtractionStrength;
import dev.loku.core.metrics.ExtractionTarget;
import dev.loku.core.metrics.MemorisationAccuracy;
import dev.loku.core.metrics.NllAccumulator;
import dev.loku.core.metrics.TeacherForcedPredictions;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.ScoredBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores a model on a record set the way the extraction benchmark does (docs/method.md §5.1): teacher-forced MA, exact
 * memorisation and extraction strength from one batched forward pass per micro-batch, token-weighted NLL from the
 * same logits, and EL_10 from batched greedy continuations of every prefix, whose prompt keys and values come from one
 * pass per record ({@link CausalLm#generateGreedyFromPrefixes}). Everything runs under {@link NoGrad}, in a child
 * manager of the model's that is closed before returning. The thread's interrupt flag is checked between batches.
 */
@SuppressWarnings("try") // NoGrad is a scope guard
public final class RecordSetEvaluator {

    /** Rows per forward pass for the teacher-forced metrics. */
    public static final int DEFAULT_BATCH_SIZE = 32;
    /** Prefixes per batched generation call for EL_10. */
    public static final int DEFAULT_GENERATION_BATCH = 512;

    private final int batchSize;
    private final ExtractionLikelihood extraction;

    public RecordSetEvaluator() {
        this(DEFAULT_BATCH_SIZE, DEFAULT_GENERATION_BATCH);
    }

    public RecordSetEvaluator(int batchSize, int generationBatch) {
        this(batchSize, generationBatch, ExtractionLikelihood.DEFAULT_N);
    }

    /**
     * @param extractionN the n of EL_n; the paper and the stop rule use 10, other values are for tests and studies
     *     (the result is still reported in the {@code el10} fields)
     */
    public RecordSetEvaluator(int batchSize, int generationBatch, int extractionN) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("the batch size must be at least 1, got " + batchSize);
        }
        this.batchSize = batchSize;
        this.extraction = new ExtractionLikelihood(extractionN, generationBatch);
    }

    /**
     * All metrics; EL_10 only when {@code withExtraction} (it costs one greedy continuation per prefix).
     *
     * @throws InterruptedException when the thread is interrupted between batches
     */
    public RecordSetScores score(CausalLm model, List<EncodedExample> examples, boolean withExtraction)
            throws InterruptedException {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("cannot score an empty record set");
        }
        List<TeacherForcedPredictions> predictions = new ArrayList<>(examples.size());
        NllAccumulator nll = new NllAccumulator();
        int padId = model.tokenizer() == null ? 0 : model.tokenizer().padId();
        try (NoGrad ignored = NoGrad.enter(); NDManager scope = model.manager().newSubManager()) {
            for (List<EncodedExample> chunk : ModelBatches.chunks(examples, batchSize)) {
                checkInterrupted();
                try (NDManager step = scope.newSubManager()) {
                    TokenBatch batch = ModelBatches.of(chunk, padId);
                    NDArray logits = model.logits(step, batch);
                    NDArray labels = batch.labelsArray(step);
                    predictions.addAll(TeacherForcedPredictions.fromLogits(logits, labels));
                    nll.add(new ScoredBatch(logits, labels));
                }
            }
        }
        double el = withExtraction ? extractionLikelihood(model, examples) : Double.NaN;
        return new RecordSetScores(examples.size(), MemorisationAccuracy.mean(predictions), el, nll.meanNll(),
                ExactMemorisation.mean(predictions), ExtractionStrength.mean(predictions));
    }

    /** Mean EL_10 over the records (docs/method.md §5.1); the text before the first label is context, not extracted. */
    public double extractionLikelihood(CausalLm model, List<EncodedExample> examples) throws InterruptedException {
        List<ExtractionTarget> targets = examples.stream().map(EncodedExample::extractionTarget).toList();
        try (NoGrad ignored = NoGrad.enter()) {
            return extraction.mean(targets, new PrefixGenerator(model, targets));
        } catch (Cancelled e) {
            throw new InterruptedException("interrupted while measuring extraction likelihood");
        }
    }

    static void checkInterrupted() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted");
        }
    }

    /** Carries an interrupt out of the generator callback, which cannot throw checked exceptions. */
    private static final class Cancelled extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Cancelled() {
            super("interrupted", null, false, false);
        }
    }

    /**
     * Every prefix {@link ExtractionLikelihood} asks for is a prefix of one of the targets, so it is handed to the
     * model as (record, prefix length): the record is prefilled once per call instead of once per prefix.
     */
    private static final class PrefixGenerator implements ContinuationGenerator {
        private final CausalLm model;
        private final List<ExtractionTarget> targets;

        PrefixGenerator(CausalLm model, List<ExtractionTarget> targets) {
            this.model = model;
            this.targets = targets;
        }

        @Override
        public List<int[]> generate(List<int[]> prefixes, int[] maxNewTokens) {
            if (Thread.interrupted()) {
                throw new Cancelled();
            }
            List<int[]> sequences = new ArrayList<>();
            int[] localIndex = new int[targets.size()];
            Arrays.fill(localIndex, -1);
            int[] sequenceOfRow = new int[prefixes.size()];
            int[] prefixLengths = new int[prefixes.size()];
            for (int r = 0; r < prefixes.size(); r++) {
                int[] prefix = prefixes.get(r);
                int owner = ownerOf(prefix);
                if (owner < 0) {
                    // Not a prefix of a known record (never the case for ExtractionLikelihood): use it as it is.
                    sequences.add(prefix);
                    sequenceOfRow[r] = sequences.size() - 1;
                } else {
                    if (localIndex[owner] < 0) {
                        localIndex[owner] = sequences.size();
                        sequences.add(targets.get(owner).tokens());
                    }
                    sequenceOfRow[r] = localIndex[owner];
                }
                prefixLengths[r] = prefix.length;
            }
            return model.generateGreedyFromPrefixes(sequences, sequenceOfRow, prefixLengths, maxNewTokens, true);
        }

        private int ownerOf(int[] prefix) {
            for (int s = 0; s < targets.size(); s++) {
                int[] tokens = targets.get(s).tokens();
                int n = prefix.length;
                if (tokens.length >= n && Arrays.equals(tokens, 0, n, prefix, 0, n)) {
                    return s;
                }
            }
            return -1;
        }
    }
}
