package dev.loku.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.testing.TestTexts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class Llama2cTokenizerTest {
    private static Llama2cTokenizer tok;
    private static JsonNode golden;
    private static Map<String, Integer> byBytes;

    @BeforeAll
    static void load() throws Exception {
        Path dir = ProjectFiles.stories260K();
        tok = Llama2cTokenizer.load(dir.resolve("tok512.bin"), 512);
        golden = new ObjectMapper().readTree(dir.resolve("reference_outputs.json").toFile());
    }

    @Test
    void encodesTheGoldenPromptAndSentence() {
        assertArrayEquals(ints(golden.get("prompt_ids_with_bos")), tok.encode(golden.get("prompt").asText(), true));
        JsonNode nll = golden.get("nll_example");
        assertArrayEquals(ints(nll.get("ids_with_bos")), tok.encode(nll.get("text").asText(), true));
    }

    @Test
    void decodesTheGoldenContinuationDroppingTheSpaceAfterBos() {
        int[] ids = ints(golden.get("greedy_from_bos_ids"));
        // The reference decoded without llama2.c's strip; ours strips the dummy-prefix space after BOS.
        assertEquals(golden.get("greedy_from_bos_text").asText().substring(1), tok.decode(ids));
    }

    @Test
    void matchesAPlainQuadraticLlama2cEncoderOnManyTexts() throws Exception {
        // Every third text: the naive encoder is quadratic.
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < TestTexts.all().size(); i += 3) {
            texts.add(TestTexts.all().get(i));
        }
        texts.addAll(TestTexts.unicode());
        assertTrue(texts.size() > 1000, "corpus too small: " + texts.size());
        for (String text : texts) {
            assertArrayEquals(naiveEncode(text), tok.encode(text, true), () -> "text: " + text);
        }
    }

    @Test
    void roundTripsTextIncludingByteFallback() throws Exception {
        for (String text : TestTexts.all()) {
            assertEquals(text, tok.decode(tok.encode(text, true)), () -> "text: " + text);
        }
    }

    @Test
    void usesByteFallbackForCharactersOutsideTheVocabulary() {
        int[] ids = tok.encode("\uD83D\uDE00", false); // U+1F600, four UTF-8 bytes, surely not a piece
        byte[] utf8 = "\uD83D\uDE00".getBytes(StandardCharsets.UTF_8);
        int[] expected = new int[utf8.length + 1];
        expected[0] = 410; // the dummy-prefix space token of tok512
        for (int i = 0; i < utf8.length; i++) {
            expected[i + 1] = (utf8[i] & 0xFF) + 3;
        }
        assertArrayEquals(expected, ids);
        assertArrayEquals(new int[] {1}, tok.encode("", true));
        assertArrayEquals(new int[0], tok.encode("", false));
    }

    /**
     * llama2.c's encode as written there: rescan all adjacent pairs after every merge, take the best score, the
     * first one on ties. Quadratic, so only a check for the fast version.
     */
    private static int[] naiveEncode(String text) {
        List<Integer> ids = new ArrayList<>();
        ids.add(1);
        if (!text.isEmpty()) {
            ids.add(lookup(" "));
        }
        text.codePoints().forEach(cp -> {
            String ch = new String(Character.toChars(cp));
            int id = lookup(ch);
            if (id >= 0) {
                ids.add(id);
            } else {
                for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                    ids.add((b & 0xFF) + 3);
                }
            }
        });
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int bestIdx = -1;
            int bestId = -1;
            for (int i = 1; i + 1 < ids.size(); i++) {
                byte[] a = tok.pieceBytes(ids.get(i));
                byte[] b = tok.pieceBytes(ids.get(i + 1));
                byte[] ab = Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, ab, a.length, b.length);
                int id = lookupBytes(ab);
                if (id >= 0 && tok.score(id) > best) {
                    best = tok.score(id);
                    bestIdx = i;
                    bestId = id;
                }
            }
            if (bestIdx < 0) {
                break;
            }
            ids.set(bestIdx, bestId);
            ids.remove(bestIdx + 1);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int lookup(String s) {
        return lookupBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static int lookupBytes(byte[] b) {
        if (byBytes == null) {
            byBytes = new HashMap<>();
            for (int i = tok.vocabSize() - 1; i >= 0; i--) {
                byBytes.put(new String(tok.pieceBytes(i), StandardCharsets.ISO_8859_1), i);
            }
        }
        Integer id = byBytes.get(new String(b, StandardCharsets.ISO_8859_1));
        return id == null ? -1 : id;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
