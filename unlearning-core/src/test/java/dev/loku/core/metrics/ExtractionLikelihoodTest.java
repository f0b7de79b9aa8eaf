package dev.loku.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExtractionLikelihoodTest {

    @Test
    void overlapCountsGeneratedNgramsWithMultiplicityAgainstTheSuffixNgramSet() {
        // Hand values. b = [6,7,8]: bigrams {(6,7),(7,8)}, 2 of them.
        assertEquals(1.0, ExtractionLikelihood.overlap(new int[] {6, 7, 6, 7}, new int[] {6, 7, 8}, 2));
        // a = [6,7,0,0]: bigrams (6,7),(7,0),(0,0); one hit over b's 3 bigrams (6,7),(7,8),(8,9).
        assertEquals(1 / 3.0, ExtractionLikelihood.overlap(new int[] {6, 7, 0, 0}, new int[] {6, 7, 8, 9}, 2));
        assertEquals(0.0, ExtractionLikelihood.overlap(new int[] {6}, new int[] {6, 7, 8}, 2), "no n-gram generated");
        assertTrue(Double.isNaN(ExtractionLikelihood.overlap(new int[] {6, 7}, new int[] {6}, 2)));
        // Repeated reference n-grams count in the denominator: b = [1,1,1] has 2 bigrams, both (1,1).
        assertEquals(0.5, ExtractionLikelihood.overlap(new int[] {1, 1}, new int[] {1, 1, 1}, 2));
    }

    @Test
    void perfectRecallGivesOneAndAHandWorkedCaseMatches() {
        // x = [5,6,7,8,9], n = 2, T = 5. A generator that always follows 5->6->7->8->9 reproduces every suffix:
        // prefixes i = 1..3 have suffixes of >= 2 tokens and overlap 1 each; i = 4 is skipped. EL = 3 / (5-2) = 1.
        int[] chain = new int[16];
        Arrays.setAll(chain, v -> v + 1);
        BigramGenerator recall = new BigramGenerator(chain, -1);
        List<ExtractionTarget> x = List.of(new ExtractionTarget(new int[] {5, 6, 7, 8, 9}, 0));
        assertEquals(1.0, new ExtractionLikelihood(2, 4).perSequence(x, recall)[0], 1e-12);
        assertEquals(1.0, ExtractionLikelihood.naivePerSequence(x, 2, recall)[0], 1e-12);

        // Same x with a table that knows 5->6->7 but then sends 7->0 and 0->0:
        // i=1: gen [6,7,0,0] vs [6,7,8,9] -> 1/3; i=2: gen [7,0,0] vs [7,8,9] -> 0/2; i=3: gen [0,0] vs [8,9] -> 0.
        int[] partial = new int[16];
        partial[5] = 6;
        partial[6] = 7;
        BigramGenerator half = new BigramGenerator(partial, -1);
        double want = (1 / 3.0) / 3;
        assertEquals(want, new ExtractionLikelihood(2, 4).perSequence(x, half)[0], 1e-12);
        assertEquals(want, ExtractionLikelihood.naivePerSequence(x, 2, half)[0], 1e-12);
    }

    @Test
    void contextTokensArePrefixedButNotMeasured() {
        // BOS = 1 is context; measured x = [5,6,7,8,9] as above, so EL is the same as without context.
        int[] chain = new int[16];
        Arrays.setAll(chain, v -> v + 1);
        List<ExtractionTarget> x = List.of(new ExtractionTarget(new int[] {1, 5, 6, 7, 8, 9}, 1));
        BigramGenerator recall = new BigramGenerator(chain, -1);
        assertEquals(1.0, new ExtractionLikelihood(2, 3).perSequence(x, recall)[0], 1e-12);
    }

    @Test
    void batchedAndNaiveAgreeOnManySequencesOfMixedLengths() {
        Random rnd = new Random(7);
        int vocab = 12;
        int eos = 11;
        int[] table = new int[vocab];
        for (int v = 0; v < vocab; v++) {
            table[v] = rnd.nextInt(vocab);
        }
        List<ExtractionTarget> targets = new ArrayList<>();
        for (int s = 0; s < 9; s++) {
            int len = 4 + rnd.nextInt(50);
            int[] seq = new int[len];
            seq[0] = rnd.nextInt(vocab - 1);
            for (int i = 1; i < len; i++) {
                // Mostly follow the table, so that overlaps are substantial but not perfect.
                seq[i] = rnd.nextDouble() < 0.93 ? table[seq[i - 1]] : rnd.nextInt(vocab - 1);
            }
            targets.add(new ExtractionTarget(seq, s % 3 == 0 ? 1 : 0));
        }
        for (int n : new int[] {1, 3, 10}) {
            BigramGenerator batchedGen = new BigramGenerator(table, eos);
            BigramGenerator naiveGen = new BigramGenerator(table, eos);
            double[] batched = new ExtractionLikelihood(n, 16).perSequence(targets, batchedGen);
            double[] naive = ExtractionLikelihood.naivePerSequence(targets, n, naiveGen);
            boolean someNonTrivial = false;
            for (int s = 0; s < targets.size(); s++) {
                if (Double.isNaN(naive[s])) {
                    assertTrue(Double.isNaN(batched[s]), "sequence " + s + " n=" + n);
                } else {
                    assertEquals(naive[s], batched[s], 1e-12, "sequence " + s + " n=" + n);
                    someNonTrivial |= naive[s] > 0.01 && naive[s] < 0.99;
                }
            }
            assertTrue(someNonTrivial, "the toy data must exercise partial overlaps for n=" + n);
            assertTrue(batchedGen.calls < naiveGen.calls / 4, "batching must reduce generator calls");
        }
    }

    @Test
    void sequencesNoLongerThanNHaveNoElAndAreSkippedInTheMean() {
        int[] chain = new int[32];
        Arrays.setAll(chain, v -> (v + 1) % 32);
        List<ExtractionTarget> targets = List.of(
                new ExtractionTarget(new int[] {1, 2, 3}, 0),
                new ExtractionTarget(new int[] {1, 2, 3, 4, 5, 6}, 0));
        ExtractionLikelihood el = new ExtractionLikelihood(3, 8);
        double[] per = el.perSequence(targets, new BigramGenerator(chain, -1));
        assertTrue(Double.isNaN(per[0]));
        assertEquals(1.0, per[1], 1e-12);
        assertEquals(1.0, el.mean(targets, new BigramGenerator(chain, -1)), 1e-12);
    }

    @Test
    void aGeneratorThatBreaksItsContractIsReported() {
        List<ExtractionTarget> x = List.of(new ExtractionTarget(new int[] {1, 2, 3, 4}, 0));
        ContinuationGenerator tooLong = (prefixes, max) -> prefixes.stream().map(p -> new int[99]).toList();
        assertThrows(IllegalStateException.class, () -> new ExtractionLikelihood(1, 2).perSequence(x, tooLong));
        ContinuationGenerator missing = (prefixes, max) -> List.of();
        assertThrows(IllegalStateException.class, () -> new ExtractionLikelihood(1, 2).perSequence(x, missing));
    }
}
