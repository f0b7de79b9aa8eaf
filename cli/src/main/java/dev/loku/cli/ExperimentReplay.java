package dev.loku.cli;

import ai.djl.Device;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Replay stories: the shipped model's own greedy continuations of short story openings, mixed into the fine-tuning
 * data so that learning the personal records does not erase what the model knew (fine-tuning stories260K on the
 * records alone drove its story NLL from about 1.7 to above 6 nats, worse than a uniform guess over its 512 tokens,
 * which would leave the story-NLL column nothing to measure). The openings are fixed here and share nothing with
 * the evaluation stories; the continuations are deterministic (greedy), so the same model gives the same texts.
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
     * {@code count} stories: each opening followed by the model's greedy continuation of at most {@code maxNewTokens}
     * tokens (cut at EOS).
     */
    static List<String> stories(java.nio.file.Path model, Device device, int count, int maxNewTokens) {
        List<String> openings = openings(count);
        if (openings.isEmpty()) {
            return List.of();
        }
        try (CausalLm m = ModelLoader.load(model, device)) {
            TextTokenizer tok = m.tokenizer();
            List<int[]> prompts = openings.stream().map(s -> tok.encode(s, true)).toList();
            int[] limits = new int[prompts.size()];
            Arrays.fill(limits, maxNewTokens);
            List<int[]> generated = m.generateGreedy(prompts, limits, true);
            List<String> out = new ArrayList<>(prompts.size());
            for (int i = 0; i < prompts.size(); i++) {
                int[] p = prompts.get(i);
                int[] g = Arrays.stream(generated.get(i)).takeWhile(id -> id != tok.eosId()).toArray();
                int[] all = new int[p.length - 1 + g.length];
                System.arraycopy(p, 1, all, 0, p.length - 1); // without the BOS
                System.arraycopy(g, 0, all, p.length - 1, g.length);
                out.add(tok.decode(all).strip());
            }
            return out;
        }
    }
}
