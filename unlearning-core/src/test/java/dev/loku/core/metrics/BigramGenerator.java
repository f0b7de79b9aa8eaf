package dev.loku.core.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A deterministic toy "model": the greedy next token depends only on the last token, through a fixed table;
 * generation stops after emitting {@code eos}. Batch-independent by construction, like a correct KV-cache decoder.
 */
final class BigramGenerator implements ContinuationGenerator {

    final int[] next;
    final int eos;
    int calls;
    int prefixesSeen;

    BigramGenerator(int[] next, int eos) {
        this.next = next;
        this.eos = eos;
    }

    @Override
    public List<int[]> generate(List<int[]> prefixes, int[] maxNewTokens) {
        calls++;
        prefixesSeen += prefixes.size();
        List<int[]> out = new ArrayList<>();
        for (int k = 0; k < prefixes.size(); k++) {
            int[] p = prefixes.get(k);
            int[] g = new int[maxNewTokens[k]];
            int last = p[p.length - 1];
            int len = 0;
            while (len < g.length) {
                last = next[last];
                g[len++] = last;
                if (last == eos) {
                    break;
                }
            }
            out.add(Arrays.copyOf(g, len));
        }
        return out;
    }
}
