package dev.loku.core.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads JSONL data sets: one JSON object per line, either {@code {"text": ...}} or
 * {@code {"question": ..., "answer": ...}}; other fields (split, index, ...) are ignored, blank lines skipped.
 * Files may mix the two forms.
 */
public final class JsonlRecords {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonlRecords() {
    }

    /**
     * @throws InvalidDataException for a malformed line (file name and line number, never the content)
     * @throws IOException when the file cannot be read
     */
    public static List<TrainingRecord> read(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(reader, file.getFileName().toString());
        }
    }

    /** As {@link #read}, from any reader; {@code source} names it in error messages. */
    public static List<TrainingRecord> parse(Reader reader, String source) throws IOException {
        BufferedReader lines = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        List<TrainingRecord> records = new ArrayList<>();
        String line;
        int number = 0;
        while ((line = lines.readLine()) != null) {
            number++;
            if (number == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            if (line.isBlank()) {
                continue;
            }
            records.add(parseLine(line, source, number));
        }
        if (records.isEmpty()) {
            throw new InvalidDataException(source, 0, "contains no records; expected one JSON object per line");
        }
        return records;
    }

    private static TrainingRecord parseLine(String line, String source, int number) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            // Jackson's message quotes the offending text, so it is deliberately not passed on.
            throw new InvalidDataException(source, number, "is not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw new InvalidDataException(source, number, "expected a JSON object, found "
                    + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        boolean hasText = node.has("text");
        boolean hasQa = node.has("question") || node.has("answer");
        if (hasText && hasQa) {
            throw new InvalidDataException(source, number,
                    "has both \"text\" and \"question\"/\"answer\"; use one form per line");
        }
        if (hasText) {
            return new TextRecord(string(node, "text", source, number), number);
        }
        if (hasQa) {
            return new QaRecord(string(node, "question", source, number), string(node, "answer", source, number),
                    number);
        }
        throw new InvalidDataException(source, number,
                "expected a \"text\" field, or \"question\" and \"answer\" fields");
    }

    private static String string(JsonNode node, String field, String source, int number) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new InvalidDataException(source, number, "is missing the \"" + field + "\" field");
        }
        if (!value.isTextual()) {
            throw new InvalidDataException(source, number, "\"" + field + "\" must be a string");
        }
        if (value.asText().isBlank()) {
            throw new InvalidDataException(source, number, "\"" + field + "\" is empty");
        }
        return value.asText();
    }
}
