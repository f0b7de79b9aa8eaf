package dev.loku.core.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Texts the tokenizer tests run over: prose, TOFU QA, Shakespeare, and strings that need byte fallback. */
public final class TestTexts {
    private static List<String> cache;

    private TestTexts() {}

    /** TinyStories-style sentences written for these tests (not from the golden file). */
    public static List<String> prose() {
        return List.of(
                "Tom and his dog Max went to the big park. They played with a red ball until the sun went down.",
                "The little bird was sad because it could not fly. Its mom said, \"Do not worry, you will learn soon.\"",
                "One morning, Sue found a shiny key under her bed. She wondered what it could open.",
                "Ben liked to build tall towers with his blocks. When the tower fell, he laughed and built it again!",
                "Once there was a kind old man who lived near the sea. Every day he gave bread to the hungry ducks.",
                "Mia's cat, Whiskers, hid in the box. \"Where are you?\" Mia asked. Then she heard a soft meow.",
                "  leading spaces, trailing spaces   ",
                "tabs\tand\nnewlines\n\nand  double  spaces",
                "ALL CAPS AND numbers 1234567890 and punctuation: ;:!?.,'\"()[]{}<>@#$%^&*-_=+/\\|~`");
    }

    /** Strings whose characters are mostly outside a 512-token vocabulary. */
    public static List<String> unicode() {
        return List.of(
                "Café crème, naïve façade, Ångström, Øresund, Łódź, İstanbul.",
                "日本語のテキストと中文文本，还有한국어.",
                "Emoji: \uD83D\uDE00\uD83D\uDC4D\uD83C\uDFFD \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 \u2764\uFE0F done",
                "Math: ∑ x² ≤ ∞, π ≈ 3.14159, √2, ∂f/∂x",
                "Combining: e\u0301 a\u0308 n\u0303 and RTL: שלום עולם مرحبا",
                "Control-ish: \u00A0non-breaking\u2009thin\u200Bzero-width",
                "Literal specials stay text: <s> </s> <unk> <0x41>",
                "\uD83C\uDF89",
                "x");
    }

    /** "Question: ...\nAnswer: ..." for every TOFU QA line, plus questions and answers alone. */
    public static List<String> tofu() {
        List<String> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try {
            for (String line : Files.readAllLines(ProjectFiles.data("tofu/tofu_qa.jsonl"), StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode qa = json.readTree(line);
                String q = qa.get("question").asText();
                String a = qa.get("answer").asText();
                out.add("Question: " + q + "\nAnswer: " + a);
                out.add(q);
                out.add(a);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Every 8th line of tinyshakespeare and 150 multi-line chunks. */
    public static List<String> shakespeare() {
        try {
            String all = Files.readString(ProjectFiles.data("tinyshakespeare/input.txt"), StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            String[] lines = all.split("\n");
            for (int i = 0; i < lines.length; i += 8) {
                out.add(lines[i]);
            }
            for (int i = 0; i < 150; i++) {
                int start = (int) ((long) i * 7349 % (all.length() - 700));
                out.add(all.substring(start, start + 300 + (i * 37) % 400));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static synchronized List<String> all() {
        if (cache == null) {
            List<String> out = new ArrayList<>();
            out.addAll(prose());
            out.addAll(unicode());
            out.addAll(tofu());
            out.addAll(shakespeare());
            cache = Collections.unmodifiableList(out);
        }
        return cache;
    }
}
