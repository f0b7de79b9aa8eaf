package dev.loku.core.tofu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.data.InvalidDataException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The TOFU splits from the project's {@code data/tofu} folder (its README says what was recovered):
 * <ul>
 *   <li>{@code tofu_qa.jsonl}: forget10 (400 QA of 20 fictitious authors, with the nested forget05/forget01 flags)
 *       and the first 300 QA of TOFU's retain evaluation set (15 further authors, 20 QA each);</li>
 *   <li>{@code real_authors_perturbed.json} and {@code world_facts_perturbed.json}: question, answer and three
 *       perturbed answers each, as TOFU ships them.</li>
 * </ul>
 *
 * <p><b>The substitute.</b> The shipped data has no paraphrased and no perturbed answers for forget and retain. Their
 * truth ratio is therefore computed on a substitute, named as such wherever it is reported: the pivot is the true
 * answer itself (as TOFU does for real authors and world facts) and the {@value #SWAPS} perturbed answers are the
 * true answers of the next {@value #SWAPS} questions about the <em>same author</em> (cyclically within the author's
 * 20): fluent, on-topic, naming the right person, but answering another question. A KS p-value computed on these
 * ratios is not TOFU's forget quality, and a model utility whose retain truth ratio uses them is marked.
 */
public final class TofuData {

    /** Substitute perturbations per forget/retain item (TOFU has 5 perturbed answers; 3 keeps the passes short). */
    public static final int SWAPS = 3;
    /** TOFU's questions per fictitious author. */
    public static final int QA_PER_AUTHOR = 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Row> forget10;
    private final List<Row> retain;
    private final List<TofuItem> realAuthors;
    private final List<TofuItem> worldFacts;

    private record Row(int author, boolean inForget05, boolean inForget01, String question, String answer) {}

    private TofuData(List<Row> forget10, List<Row> retain, List<TofuItem> realAuthors, List<TofuItem> worldFacts) {
        this.forget10 = forget10;
        this.retain = retain;
        this.realAuthors = realAuthors;
        this.worldFacts = worldFacts;
    }

    /**
     * Reads the folder.
     *
     * @throws InvalidDataException naming the file and line of anything missing or malformed
     */
    public static TofuData load(Path dir) throws IOException {
        Path qa = dir.resolve("tofu_qa.jsonl");
        List<Row> forget = new ArrayList<>();
        List<Row> retain = new ArrayList<>();
        int line = 0;
        for (JsonNode n : lines(qa)) {
            line++;
            String split = text(n, "split", qa, line);
            int index = n.path("index").asInt(-1);
            if (index < 0) {
                throw new InvalidDataException(qa.toString(), line, "has no \"index\"");
            }
            int author = n.has("author_group") ? n.get("author_group").asInt() : index / QA_PER_AUTHOR;
            Row row = new Row(author, n.path("in_forget05").asBoolean(false), n.path("in_forget01").asBoolean(false),
                    text(n, "question", qa, line), text(n, "answer", qa, line));
            if (split.equals("forget10")) {
                forget.add(row);
            } else if (split.equals("retain_eval300")) {
                retain.add(row);
            }
        }
        if (forget.isEmpty() || retain.isEmpty()) {
            throw new InvalidDataException(qa.toString(), 0, "holds no forget10 or no retain_eval300 rows");
        }
        return new TofuData(forget, retain, perturbed(dir.resolve("real_authors_perturbed.json")),
                perturbed(dir.resolve("world_facts_perturbed.json")));
    }

    /**
     * forget01, forget05 or forget10 (TOFU's nested forget splits: 2, 10 or 20 authors), keeping the first
     * {@code perAuthor} questions of each author ({@value #QA_PER_AUTHOR} keeps them all).
     */
    public TofuSplit forget(int percent, int perAuthor) {
        List<Row> rows = switch (percent) {
            case 1 -> forget10.stream().filter(Row::inForget01).toList();
            case 5 -> forget10.stream().filter(Row::inForget05).toList();
            case 10 -> forget10;
            default -> throw new IllegalArgumentException("TOFU's forget splits are 1, 5 and 10 (percent), got "
                    + percent);
        };
        return new TofuSplit(forgetName(percent), TofuSplit.Kind.FORGET, substituted(rows, perAuthor), true);
    }

    /** "forget01", "forget05" or "forget10". */
    public static String forgetName(int percent) {
        return "forget" + (percent < 10 ? "0" : "") + percent;
    }

    /** The retain split (the 15 authors of the retain evaluation set), {@code perAuthor} questions each. */
    public TofuSplit retain(int perAuthor) {
        return new TofuSplit("retain", TofuSplit.Kind.RETAIN, substituted(retain, perAuthor), true);
    }

    public TofuSplit realAuthors() {
        return new TofuSplit("real_authors", TofuSplit.Kind.REAL_WORLD, realAuthors, false);
    }

    public TofuSplit worldFacts() {
        return new TofuSplit("world_facts", TofuSplit.Kind.REAL_WORLD, worldFacts, false);
    }

    private static List<TofuItem> substituted(List<Row> rows, int perAuthor) {
        if (perAuthor < 1) {
            throw new IllegalArgumentException("at least one question per author is needed, got " + perAuthor);
        }
        Map<Integer, List<Row>> byAuthor = new LinkedHashMap<>();
        for (Row r : rows) {
            byAuthor.computeIfAbsent(r.author(), a -> new ArrayList<>()).add(r);
        }
        List<TofuItem> items = new ArrayList<>();
        for (List<Row> author : byAuthor.values()) {
            if (author.size() <= SWAPS) {
                throw new IllegalArgumentException("an author needs more than " + SWAPS + " questions for the"
                        + " substitute perturbations, got " + author.size());
            }
            for (int i = 0; i < Math.min(perAuthor, author.size()); i++) {
                List<String> swaps = new ArrayList<>(SWAPS);
                for (int s = 1; s <= SWAPS; s++) {
                    swaps.add(author.get((i + s) % author.size()).answer());
                }
                Row r = author.get(i);
                items.add(new TofuItem(r.question(), r.answer(), r.answer(), swaps));
            }
        }
        return items;
    }

    private static List<TofuItem> perturbed(Path file) throws IOException {
        List<TofuItem> items = new ArrayList<>();
        int line = 0;
        for (JsonNode n : lines(file)) {
            line++;
            JsonNode p = n.get("perturbed_answer");
            if (p == null || !p.isArray() || p.isEmpty()) {
                throw new InvalidDataException(file.toString(), line, "has no \"perturbed_answer\" list");
            }
            List<String> perturbed = new ArrayList<>();
            p.forEach(x -> perturbed.add(x.asText()));
            String answer = text(n, "answer", file, line);
            items.add(new TofuItem(text(n, "question", file, line), answer, answer, perturbed));
        }
        if (items.isEmpty()) {
            throw new InvalidDataException(file.toString(), 0, "holds no items");
        }
        return items;
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new InvalidDataException(file.toString(), 0, "is missing (expected the TOFU data folder)");
        }
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String s;
            int line = 0;
            while ((s = r.readLine()) != null) {
                line++;
                if (s.isBlank()) {
                    continue;
                }
                try {
                    out.add(JSON.readTree(s));
                } catch (IOException e) {
                    throw new InvalidDataException(file.toString(), line, "is not valid JSON");
                }
            }
        }
        return out;
    }

    private static String text(JsonNode n, String field, Path file, int line) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new InvalidDataException(file.toString(), line, "has no \"" + field + "\" text");
        }
        return v.asText();
    }
}
