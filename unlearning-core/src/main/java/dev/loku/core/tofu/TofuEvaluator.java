package dev.loku.core.tofu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.data.QaRecord;
import dev.loku.core.data.QaTemplate;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.objective.ScoredBatch;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Scores a model on TOFU splits the way TOFU's evaluation does (docs/method.md §5.2):
 * <ul>
 *   <li>every answer (true, pivot, perturbed) is encoded as in training, with the question as unscored context and
 *       the answer's tokens plus one EOS as labels, cut at {@code maxLength} tokens (TOFU evaluates at 200), and its
 *       loss is the mean NLL over those labels;</li>
 *   <li>the greedy answer is generated from the question prompt (the template's question part and answer tag,
 *       trailing space dropped so that the answer's first word keeps its own leading-space token) until EOS or
 *       {@code maxLength} tokens in all (or {@code maxNewTokens}, when smaller), decoded, and scored with
 *       {@link RougeL#recall} against the true answer.</li>
 * </ul>
 * Runs under {@link NoGrad}; sequences are batched by length so that little padding is computed. A progress
 * callback hears after every batch, for the command line's progress line.
 */
@SuppressWarnings("try") // NoGrad is a scope guard
public final class TofuEvaluator {

    /** TOFU's evaluation length (prompt + answer). */
    public static final int DEFAULT_MAX_LENGTH = 200;
    /** Rows per teacher-forced pass. */
    public static final int DEFAULT_BATCH_SIZE = 16;
    /** Prompts per batched generation. */
    public static final int DEFAULT_GENERATION_BATCH = 64;

    /** Hears how far a split's scoring got: {@code done} of {@code total} units (sequences scored + answers generated). */
    @FunctionalInterface
    public interface Progress {
        void update(String split, int done, int total);

        static Progress none() {
            return (s, d, t) -> { };
        }
    }

    private final QaTemplate template;
    private final int maxLength;
    private final int maxNewTokens;
    private final int batchSize;
    private final int generationBatch;

    /**
     * @param maxNewTokens the most tokens a greedy answer may have (TOFU has no such cap beyond
     *     {@code maxLength}; a cap shortens the generation pass, and is reported with the results)
     */
    public TofuEvaluator(QaTemplate template, int maxLength, int maxNewTokens, int batchSize, int generationBatch) {
        this.template = template;
        if (maxLength < 8 || maxNewTokens < 1 || batchSize < 1 || generationBatch < 1) {
            throw new IllegalArgumentException("max length at least 8, new tokens and batch sizes at least 1");
        }
        this.maxLength = maxLength;
        this.maxNewTokens = maxNewTokens;
        this.batchSize = batchSize;
        this.generationBatch = generationBatch;
    }

    /** TOFU's settings: the plain template, 200 tokens, no further cap on the answer. */
    public TofuEvaluator() {
        this(QaTemplate.PLAIN, DEFAULT_MAX_LENGTH, DEFAULT_MAX_LENGTH, DEFAULT_BATCH_SIZE, DEFAULT_GENERATION_BATCH);
    }

    public int maxLength() {
        return maxLength;
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    /**
     * Per-item losses and ROUGE-L of {@code model} on {@code split}.
     *
     * @throws InterruptedException when the thread is interrupted between batches
     */
    public TofuSplitScores score(CausalLm model, TofuSplit split, Progress progress) throws InterruptedException {
        TextTokenizer tok = model.tokenizer();
        if (tok == null) {
            throw new IllegalArgumentException("the model has no tokenizer, so TOFU questions cannot be encoded");
        }
        int length = Math.min(maxLength, model.config().maxPositionEmbeddings());
        ExampleEncoder encoder = new ExampleEncoder(tok, template, length, true, false);
        int n = split.size();
        int perturbations = split.items().get(0).perturbed().size();
        // Sequence s of item i: s = 0 true answer, 1 pivot, 2.. perturbed.
        List<EncodedExample> sequences = new ArrayList<>();
        List<int[]> owner = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TofuItem item = split.items().get(i);
            if (item.perturbed().size() != perturbations) {
                throw new IllegalArgumentException("every item of '" + split.name() + "' needs " + perturbations
                        + " perturbed answers");
            }
            List<String> answers = new ArrayList<>();
            answers.add(item.answer());
            answers.add(item.pivot());
            answers.addAll(item.perturbed());
            for (int s = 0; s < answers.size(); s++) {
                if (s == 1 && item.pivot().equals(item.answer())) {
                    continue; // the same text gives the same loss: score it once
                }
                EncodedExample e = encoder.encode(new QaRecord(item.question(), answers.get(s), i + 1));
                if (e.labelCount() == 0) {
                    throw new IllegalArgumentException("item " + (i + 1) + " of '" + split.name() + "': the question"
                            + " alone fills the " + length + "-token evaluation length");
                }
                sequences.add(e);
                owner.add(new int[] {i, s});
            }
        }
        int total = sequences.size() + n;
        double[] losses = losses(model, sequences, split.name(), total, progress);
        double[] answer = new double[n];
        double[] pivot = new double[n];
        double[][] perturbed = new double[n][perturbations];
        boolean[] pivotSeen = new boolean[n];
        for (int k = 0; k < sequences.size(); k++) {
            int i = owner.get(k)[0];
            int s = owner.get(k)[1];
            if (s == 0) {
                answer[i] = losses[k];
            } else if (s == 1) {
                pivot[i] = losses[k];
                pivotSeen[i] = true;
            } else {
                perturbed[i][s - 2] = losses[k];
            }
        }
        for (int i = 0; i < n; i++) {
            if (!pivotSeen[i]) {
                pivot[i] = answer[i];
            }
        }
        double[] rouge = rouge(model, split, length, sequences.size(), total, progress);
        return new TofuSplitScores(split.name(), split.kind(), split.substituted(), answer, pivot, perturbed, rouge);
    }

    /** Mean NLL per label token of every sequence, computed in length-sorted batches. */
    private double[] losses(CausalLm model, List<EncodedExample> sequences, String split, int total,
                            Progress progress) throws InterruptedException {
        Integer[] order = new Integer[sequences.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> sequences.get(i).length()));
        double[] out = new double[sequences.size()];
        int padId = model.tokenizer().padId();
        int done = 0;
        try (NoGrad ignored = NoGrad.enter(); NDManager scope = model.manager().newSubManager()) {
            for (int from = 0; from < order.length; from += batchSize) {
                checkInterrupted();
                int to = Math.min(order.length, from + batchSize);
                List<EncodedExample> chunk = new ArrayList<>(to - from);
                for (int k = from; k < to; k++) {
                    chunk.add(sequences.get(order[k]));
                }
                try (NDManager step = scope.newSubManager()) {
                    TokenBatch batch = ModelBatches.of(chunk, padId);
                    NDArray logits = model.logits(step, batch);
                    float[] sums = CausalLmLoss.sequenceNllSums(new ScoredBatch(logits, batch.labelsArray(step)))
                            .toFloatArray();
                    for (int k = from; k < to; k++) {
                        EncodedExample e = sequences.get(order[k]);
                        // Position 0 is never a label (BOS), so every label is a predicted token.
                        out[order[k]] = sums[k - from] / e.labelCount();
                    }
                }
                done += to - from;
                progress.update(split, done, total);
            }
        }
        return out;
    }

    /** ROUGE-L recall of the greedy answer of every item. */
    private double[] rouge(CausalLm model, TofuSplit split, int length, int done, int total, Progress progress)
            throws InterruptedException {
        TextTokenizer tok = model.tokenizer();
        int n = split.size();
        List<int[]> prompts = new ArrayList<>(n);
        for (TofuItem item : split.items()) {
            String prompt = (template.questionPart(item.question()) + template.answerStart()).stripTrailing();
            int[] ids = tok.encode(prompt, true);
            prompts.add(ids.length >= length ? Arrays.copyOf(ids, length - 1) : ids);
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> prompts.get(i).length));
        double[] out = new double[n];
        for (int from = 0; from < n; from += generationBatch) {
            checkInterrupted();
            int to = Math.min(n, from + generationBatch);
            List<int[]> batch = new ArrayList<>(to - from);
            int[] limits = new int[to - from];
            for (int k = from; k < to; k++) {
                batch.add(prompts.get(order[k]));
                limits[k - from] = Math.min(maxNewTokens, length - prompts.get(order[k]).length);
            }
            List<int[]> generated;
            try (NoGrad ignored = NoGrad.enter()) {
                generated = model.generateGreedy(batch, limits, true);
            }
            for (int k = from; k < to; k++) {
                int[] g = generated.get(k - from);
                int end = 0;
                while (end < g.length && g[end] != tok.eosId()) {
                    end++;
                }
                String text = tok.decode(Arrays.copyOf(g, end)).strip();
                out[order[k]] = RougeL.recall(split.items().get(order[k]).answer(), text);
            }
            progress.update(split.name(), done + to, total);
        }
        return out;
    }

    private static void checkInterrupted() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while scoring TOFU");
        }
    }
}
