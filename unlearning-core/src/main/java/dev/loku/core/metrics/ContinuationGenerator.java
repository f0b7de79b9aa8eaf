package dev.loku.core.metrics;

import java.util.List;

/**
 * Greedy decoding as the extraction metrics need it; the model runtime implements it with a batched KV-cache
 * decoder. No sampling, no repetition penalty (docs/method.md §8.13).
 */
@FunctionalInterface
public interface ContinuationGenerator {

    /**
     * For each prefix, its greedy continuation: only the new tokens, at most {@code maxNewTokens[i]} of them, fewer
     * when the model emits its end-of-sequence token (which may be included or not, consistently). The result must
     * not depend on which other prefixes share the call.
     *
     * @param prefixes token ids, including any BOS the model expects; may differ in length
     * @param maxNewTokens one bound per prefix
     * @return one array per prefix, in the same order
     */
    List<int[]> generate(List<int[]> prefixes, int[] maxNewTokens);
}
