package dev.loku.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Replay stories: the shipped model's own sampled continuations of short story openings, mixed into the fine-tuning
 * data so that learning the personal records does not erase what the model knew (fine-tuning stories260K on the
 * records alone drove its story NLL from about 1.7 to above 6 nats, worse than a uniform guess over its 512 tokens,
 * which would leave the story-NLL column nothing to measure). The openings are fixed here and share nothing with
 * the evaluation stories; the continuations are seeded samples, so the same model and seed give the same texts.
 */
final class ExperimentReplay {

    private static final String[] NAMES = {"Lily", "Tom", "Sue", "Ben", "Anna", "Max", "Timmy", "Sara", "Jack", "Mia"};
    private static final String[] OPENINGS = {
            "Once upon a time, there was a little girl named %s.", "One day, %s went to the park.",
            "%s had a big red ball.", "%s and her mom went to the store.", "%s saw a bird in the sky."};

    private ExperimentReplay() {}

    /** The opening sentences, {@code count} of them at most, in a fixed order. */
    static List<String> openings(int count) {
        List<String> out = new ArrayList<>();
        for (int i = 0; out.size() < count && i < NAMES.length * OPENINGS.length; i++) {
            out.add(String.format(OPENINGS[i % OPENINGS.length], NAMES[i / OPENINGS.length % NAMES.length]));
        }
        return out;
    }

    /**
     * {@code count} stories sampled from the shipped model (temperature 1, seeded): the openings in turn, as often as
     * needed, each continued by at most {@code maxNewTokens} sampled tokens (cut at EOS). Why sampled and not greedy:
     * the expected gradient of a model's log-likelihood on its own samples is zero, so training on them holds the
     * model near what it was, while greedy continuations are its most repetitive texts and pull it towards them
     * (with greedy replay the fine-tune raised story NLL from 1.73 to 3.4-5.7 nats).
     */
    static List<String> stories(java.nio.file.Path model, Device device, int count, int maxNewTokens,
                                       long seed) {
        List<String> openings = openings(Integer.MAX_VALUE);
        if (count <= 0) {
            return List.of();
        }
        SplittableRandom random = new SplittableRandom(seed);
        try (NoGrad ignored = NoGrad.enter(); CausalLm m = ModelLoader.load(model, device);
             NDManager scope = m.manager().newSubManager()) {
            TextTokenizer tok = m.tokenizer();
            int limit = m.config().maxPositionEmbeddings();
            List<int[]> rows = new ArrayList<>(count);
            boolean[] done = new boolean[count];
            for (int i = 0; i < count; i++) {
                rows.add(tok.encode(openings.get(i % openings.size()), true));
            }
            for (int step = 0; step < maxNewTokens; step++) {
                List<Integer> active = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    if (!done[i] && rows.get(i).length < limit) {
                        active.add(i);
                    }
                }
                if (active.isEmpty()) {
                    break;
                }
                float[] last;
                int vocab;
                try (NDManager stepScope = scope.newSubManager()) {
                    // Left padding puts every row's last token in the last column.
                    TokenBatch batch = TokenBatch.of(active.stream().map(rows::get).toList(),
                            TokenBatch.Padding.LEFT, tok.padId());
                    NDArray logits = m.logits(stepScope, batch).get(new NDIndex(":, -1, :"));
                    vocab = (int) logits.getShape().get(1);
                    last = logits.toFloatArray();
                }
                for (int a = 0; a < active.size(); a++) {
                    int row = active.get(a);
                    int next = sample(last, a * vocab, vocab, random);
                    if (next == tok.eosId()) {
                        done[row] = true;
                    } else {
                        int[] grown = Arrays.copyOf(rows.get(row), rows.get(row).length + 1);
                        grown[grown.length - 1] = next;
                        rows.set(row, grown);
                    }
                }
            }
            List<String> out = new ArrayList<>(count);
            for (int[] r : rows) {
                out.add(tok.decode(Arrays.copyOfRange(r, 1, r.length)).strip()); // without the BOS
            }
            return out;
        }
    }

    /** One draw from softmax(logits[from, from + n)). */
    private static int sample(float[] logits, int from, int n, SplittableRandom random) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[from + i]);
        }
        double[] cumulative = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[from + i] - max);
            cumulative[i] = sum;
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < n; i++) {
            if (u < cumulative[i]) {
                return i;
            }
        }
        return n - 1;
    }
}
