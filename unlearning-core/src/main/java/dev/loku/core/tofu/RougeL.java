package dev.loku.core.tofu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * ROUGE-L recall of a generated answer against the true answer, as TOFU scores generations (docs/method.md §5.2): both
 * texts are lower-cased, every run of characters other than a-z and 0-9 becomes a space, the words are split on
 * spaces and every word longer than three letters is reduced to its {@link PorterStemmer Porter stem}; the recall is
 * the length of the longest common subsequence of the two word lists divided by the true answer's word count. This is
 * the {@code rougeL} recall of Google's rouge_score with {@code use_stemmer=True}.
 */
public final class RougeL {

    private RougeL() {
    }

    /** The words ROUGE compares: lower case, alphanumeric runs only, words of four or more letters stemmed. */
    public static List<String> tokens(String text) {
        String lower = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ").strip();
        List<String> out = new ArrayList<>();
        if (lower.isEmpty()) {
            return out;
        }
        for (String word : lower.split(" ")) {
            out.add(word.length() > 3 ? PorterStemmer.stem(word) : word);
        }
        return out;
    }

    /** LCS(reference, candidate) / |reference| in words; 0 when either text has no word. */
    public static double recall(String reference, String candidate) {
        List<String> ref = tokens(reference);
        List<String> gen = tokens(candidate);
        if (ref.isEmpty() || gen.isEmpty()) {
            return 0.0;
        }
        return (double) lcsLength(ref, gen) / ref.size();
    }

    /** Length of the longest common subsequence, by the usual dynamic programme over two rows. */
    static int lcsLength(List<String> a, List<String> b) {
        int[] previous = new int[b.size() + 1];
        int[] current = new int[b.size() + 1];
        for (String x : a) {
            for (int j = 1; j <= b.size(); j++) {
                current[j] = x.equals(b.get(j - 1)) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.size()];
    }
}
