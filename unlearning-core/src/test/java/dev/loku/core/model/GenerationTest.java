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
        stories = (LlamaModel) ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
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
        TextTokenizer tok = stories.tokenizer();
        List<int[]> sequences = List.of(
                tok.encode("A girl named Amy found a tiny blue egg in the grass near her house.", true),
                tok.encode("Question: Where was the author born?\nAnswer: In a small town by the sea.", true));
        List<Integer> seqOf = new ArrayList<>();
        List<Integer> prefixLen = new ArrayList<>();
        List<Integer> budget = new ArrayList<>();
        for (int s = 0; s < sequences.size(); s++) {
            int t = sequences.get(s).length;
            for (int i = 1; i < t; i++) {
                seqOf.add(s);
                prefixLen.add(i);
                budget.add(t - i);
            }
        }
        int rows = seqOf.size();
        int[] seqOfRow = seqOf.stream().mapToInt(Integer::intValue).toArray();
        int[] lengths = prefixLen.stream().mapToInt(Integer::intValue).toArray();
        int[] budgets = budget.stream().mapToInt(Integer::intValue).toArray();
        List<int[]> shared = stories.generateGreedyFromPrefixes(sequences, seqOfRow, lengths, budgets, false);
        List<int[]> prefixes = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            prefixes.add(Arrays.copyOf(sequences.get(seqOfRow[r]), lengths[r]));
        }
        List<int[]> explicit = stories.generateGreedy(prefixes, budgets, false);
        for (int r = 0; r < rows; r++) {
            String where = "sequence " + seqOfRow[r] + " prefix length " + lengths[r];
            assertArrayEquals(explicit.get(r), shared.get(r), where);
            assertEquals(budgets[r], shared.get(r).length, where);
            if (r % 3 == 0) { // the quadratic definition on a third of the rows keeps the test quick
                assertArrayEquals(recompute(stories, prefixes.get(r), budgets[r], false), shared.get(r), where);
            }
        }
    }

    @Test
    void randomGqaModelWithUntiedHeadAgrees() {
        Random rnd = new Random(42);
        try (LlamaModel model = LlamaModelTest.randomModel(LlamaModelTest.HALF_GQA, 3)) {
            List<int[]> prompts = LlamaModelTest.prompts(rnd, 61, 1, 7, 3, 12, 5, 2);
            checkAgainstDefinitions(model, prompts, new int[] {9, 4, 15, 1, 11, 6}, false);
            // Prefixes of those prompts, through the shared-prefix path.
            int[] seqOf = {3, 1, 3, 0, 4, 3};
            int[] lengths = {12, 7, 5, 1, 2, 1};
            int[] budgets = {4, 8, 0, 6, 3, 10};
            List<int[]> shared = model.generateGreedyFromPrefixes(prompts, seqOf, lengths, budgets, false);
            for (int r = 0; r < seqOf.length; r++) {
                int[] prefix = Arrays.copyOf(prompts.get(seqOf[r]), lengths[r]);
                assertArrayEquals(recompute(model, prefix, budgets[r], false), shared.get(r), "row " + r);
            }
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
