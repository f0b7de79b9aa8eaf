package dev.loku.core.data;

import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A test tokenizer: one id per whitespace-separated word, assigned on first sight; PAD 0, BOS 1, EOS 2. */
final class WhitespaceTokenizer implements TextTokenizer {

    private final Map<String, Integer> ids = new HashMap<>();
    private final List<String> words = new ArrayList<>(List.of("<pad>", "<s>", "</s>"));

    int id(String word) {
        return ids.computeIfAbsent(word, w -> {
            words.add(w);
            return words.size() - 1;
        });
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        List<Integer> out = new ArrayList<>();
        if (addBos) {
            out.add(bosId());
        }
        for (String w : text.trim().split("\\s+")) {
            if (!w.isEmpty()) {
                out.add(id(w));
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String decode(int[] tokens) {
        StringBuilder sb = new StringBuilder();
        for (int t : tokens) {
            if (t > 2) {
                sb.append(sb.length() == 0 ? "" : " ").append(words.get(t));
            }
        }
        return sb.toString();
    }

    @Override
    public int vocabSize() {
        return words.size();
    }

    @Override
    public int bosId() {
        return 1;
    }

    @Override
    public int eosId() {
        return 2;
    }

    @Override
    public int padId() {
        return 0;
    }
}
