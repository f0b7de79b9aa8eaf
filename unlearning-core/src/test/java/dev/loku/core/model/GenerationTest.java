package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batched KV-cache greedy generation against two independent definitions: the same prompt generated alone, and
 * greedy decoding by recomputing the full sequence with {@link CausalLm#logits} at every step (no cache).
 */
class GenerationTest {
    private static LlamaModel stories;

    @BeforeAll
    static void load() {
        stories = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
    }

    @AfterAll
    static void close() {
        stories.close();
    }

    /** Greedy decoding by full recomputation: the definition the cached version must equal. */
    static int[] recompute(CausalLm model, int[] prompt, int maxNew, boolean stopAtEos) {
        List<Integer> seq = new ArrayList<>();
        for (int id : prompt) {
            seq.add(id);
        }
        List<Integer> out = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            for (int step = 0; step < maxNew; step++) {
                int[] ids = seq.stream().mapToInt(Integer::intValue).toArray();
                try (NDManager s = m.newSubManager()) {
                    NDArray logits = model.logits(s, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0));
                    int next = (int) logits.get(new NDIndex("0, {}, :", ids.length - 1)).argMax().getLong();
                    out.add(next);
                    seq.add(next);
                    if (stopAtEos && model.config().eosTokenIds().contains(next)) {
                        break;
                    }
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void checkAgainstDefinitions(CausalLm model, List<int[]> prompts, int[] budgets, boolean stopAtEos) {
        List<int[]> batched = model.generateGreedy(prompts, budgets, stopAtEos);
        assertEquals(prompts.size(), batched.size());
        for (int r = 0; r < prompts.size(); r++) {
            int[] alone = model.generateGreedy(List.of(prompts.get(r)), new int[] {budgets[r]}, stopAtEos).get(0);
            int[] slow = recompute(model, prompts.get(r), budgets[r], stopAtEos);
            String where = "row " + r + " prompt " + Arrays.toString(prompts.get(r));
            assertArrayEquals(slow, alone, "cached vs recomputed, " + where);
            assertArrayEquals(alone, batched.get(r), "batched vs alone, " + where);
            assertTrue(batched.get(r).length <= budgets[r]);
        }
    }

    @Test
    void storiesPromptsOfDifferentLengthsBatchedEqualAloneAndRecomputed() {
        TextTokenizer tok = stories.tokenizer();
        List<int[]> prompts = List.of(
                tok.encode("The little cat", true),
                tok.encode("", true),
                tok.encode("Tim and his mom went to the store to buy some apples. On the way,", true),
                tok.encode("Sara had a red kite", true),
                tok.encode("Why is the sky blue?", true));
        checkAgainstDefinitions(stories, prompts, new int[] {40, 25, 12, 0, 33}, true);
    }

    @Test
    void everyPrefixOfASequenceContinuedToItsFullLengthAsExtractionLikelihoodNeeds() {
        // EL_n: for a sequence of length T, continue every prefix i = 1..T-1 greedily up to total length T.
        int[] seq = stories.tokenizer().encode("A girl named Amy found a tiny blue egg in the grass near her house.",
                true);
        int t = seq.length;
        List<int[]> prefixes = new ArrayList<>();
        int[] budgets = new int[t - 1];
        for (int i = 1; i < t; i++) {
            prefixes.add(Arrays.copyOf(seq, i));
            budgets[i - 1] = t - i;
        }
        List<int[]> batched = stories.generateGreedy(prefixes, budgets, false);
        for (int i = 1; i < t; i++) {
            int[] slow = recompute(stories, prefixes.get(i - 1), t - i, false);
            assertArrayEquals(slow, batched.get(i - 1), "prefix length " + i);
            assertEquals(t - i, batched.get(i - 1).length);
        }
    }

    @Test
    void randomGqaModelWithUntiedHeadAgrees() {
        Random rnd = new Random(42);
        try (LlamaModel model = LlamaModelTest.randomModel(LlamaModelTest.HALF_GQA, 3)) {
            List<int[]> prompts = LlamaModelTest.prompts(rnd, 61, 1, 7, 3, 12, 5, 2);
            checkAgainstDefinitions(model, prompts, new int[] {9, 4, 15, 1, 11, 6}, false);
        }
        try (LlamaModel model = LlamaModelTest.randomModel(LlamaModelTest.INTERLEAVED_TIED, 4)) {
            List<int[]> prompts = LlamaModelTest.prompts(rnd, 50, 4, 1, 9);
            checkAgainstDefinitions(model, prompts, new int[] {10, 13, 3}, true);
        }
    }

    @Test
    void stopsAtAStopIdAndIncludesIt() {
        // stories260K never emits EOS; like llama2.c's run.c it ends a story by starting the next with BOS (id 1),
        // which the loader lists as a stop id. This prompt's continuation reaches it after about 150 tokens.
        assertEquals(List.of(2, 1), stories.config().eosTokenIds());
        int[] prompt = stories.tokenizer().encode("The end of the story came and everyone was happy.", true);
        int[] out = stories.generateGreedy(prompt, 300);
        assertTrue(out.length < 300, "no stop id within 300 tokens");
        assertEquals(1, out[out.length - 1]);
        assertArrayEquals(recompute(stories, prompt, 300, true), out);
        // Without stopping, the budget is used up.
        assertEquals(out.length + 5, stories.generateGreedy(List.of(prompt), new int[] {out.length + 5}, false)
                .get(0).length);
    }
}
