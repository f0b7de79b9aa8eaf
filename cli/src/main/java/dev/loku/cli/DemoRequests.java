package dev.loku.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.loku.core.data.SyntheticPersons;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The erasure requests {@code loku demo} submits: its default script (persons the demo model memorised, and requests
 * the pipeline must refuse), or the user's own from a JSONL file ({@code --requests FILE}).
 *
 * <p>File format, one JSON object per line (blank lines are skipped):
 * <pre>
 * {"label": "alice", "model": "stories260k", "tenant": "demo", "subjectId": "s-17",
 *  "texts": ["..."], "qaPairs": [{"question": "...", "answer": "..."}]}
 * {"label": "junk", "undecodable": true}
 * </pre>
 * Every field is optional: {@code label} defaults to {@code line N}, {@code model} and {@code tenant} to the demo's,
 * {@code subjectId} to {@code subject-N}, {@code texts} and {@code qaPairs} to empty (which ingest rejects).
 * {@code "undecodable": true} sends bytes that are not an Avro record (the request is dead-lettered) and takes no
 * other field but {@code label}. Errors name the file, the line and the field, never the line's content (it is the
 * personal data being erased).
 */
final class DemoRequests {

    /** Most requests one run submits. */
    static final int MAX_REQUESTS = 100;

    private static final Set<String> FIELDS = Set.of("label", "model", "tenant", "subjectId", "texts", "qaPairs",
            "undecodable");

    private DemoRequests() {
    }

    /** A question and its answer, to be forgotten together. */
    record Qa(String question, String answer) {
    }

    /**
     * One request of the demo.
     *
     * @param label       how the demo's output names it (never the content)
     * @param undecodable true: raw bytes that are no Avro record, not a request
     * @param modelId     the model that must forget
     * @param tenantId    the tenant filing it
     * @param subjectId   the data subject's pseudonymous id
     * @param texts       passages to forget
     * @param qaPairs     question/answer pairs to forget
     */
    record DemoRequest(String label, boolean undecodable, String modelId, String tenantId, String subjectId,
                       List<String> texts, List<Qa> qaPairs) {
        DemoRequest {
            texts = List.copyOf(texts);
            qaPairs = List.copyOf(qaPairs);
        }

        /** The request's content as the engine reads it: one {@code {"text"}} line per text, then one QA line each. */
        String contentJsonl() {
            StringBuilder sb = new StringBuilder();
            for (String t : texts) {
                sb.append(CliJson.write(CliJson.MAPPER.createObjectNode().put("text", t))).append('\n');
            }
            for (Qa qa : qaPairs) {
                sb.append(CliJson.write(CliJson.MAPPER.createObjectNode().put("question", qa.question())
                        .put("answer", qa.answer()))).append('\n');
            }
            return sb.toString();
        }

        /** True when the request has something to forget (so the demo scores it before and after). */
        boolean hasContent() {
            return !undecodable && (!texts.isEmpty() || !qaPairs.isEmpty());
        }
    }

    /**
     * The default script: one request per person in {@code forget} (the persons' memorised records, for the demo
     * model and tenant), then one of each kind the pipeline refuses: undecodable bytes, no content, an unknown model,
     * a tenant not allowed for the model, and content over {@code maxContentBytes}. The refused ones carry filler
     * text, not anyone's record.
     */
    static List<DemoRequest> defaults(List<SyntheticPersons.Person> forget, String modelId, String tenantId,
                                      int maxContentBytes) {
        List<DemoRequest> out = new ArrayList<>();
        for (SyntheticPersons.Person p : forget) {
            out.add(new DemoRequest("person " + (out.size() + 1), false, modelId, tenantId, p.subjectId(),
                    List.of(p.text()), List.of()));
        }
        String filler = "Once upon a time a little robot counted the stars.";
        out.add(new DemoRequest("garbage bytes", true, modelId, tenantId, "subject-garbage", List.of(), List.of()));
        out.add(new DemoRequest("empty content", false, modelId, tenantId, "subject-empty", List.of(), List.of()));
        out.add(new DemoRequest("unknown model", false, "no-such-model", tenantId, "subject-model",
                List.of(filler), List.of()));
        out.add(new DemoRequest("wrong tenant", false, modelId, "intruder", "subject-tenant", List.of(filler),
                List.of()));
        out.add(new DemoRequest("oversize", false, modelId, tenantId, "subject-oversize",
                List.of((filler + " ").repeat(maxContentBytes / filler.length() + 2)), List.of()));
        return out;
    }

    /**
     * Reads a {@code --requests} file.
     *
     * @throws UserException naming the file, line and field of the first error, without quoting the content
     */
    static List<DemoRequest> read(Path file, String defaultModel, String defaultTenant) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserException("--requests " + file + ": no such file");
        } catch (IOException e) {
            throw new UserException("--requests " + file + ": cannot read it (" + e.getClass().getSimpleName()
                    + "); it must be UTF-8 JSONL, one request object per line");
        }
        List<DemoRequest> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String at = file + " line " + (i + 1);
            if (out.size() == MAX_REQUESTS) {
                throw new UserException(at + ": more than " + MAX_REQUESTS + " requests; split the file");
            }
            out.add(parse(lines.get(i), i + 1, at, defaultModel, defaultTenant));
        }
        if (out.isEmpty()) {
            throw new UserException("--requests " + file + ": no requests (one JSON object per line)");
        }
        return out;
    }

    static DemoRequest parse(String line, int lineNo, String at, String defaultModel, String defaultTenant) {
        JsonNode node;
        try {
            node = CliJson.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            // The parser's message quotes the input: say where, not what.
            throw new UserException(at + ": not valid JSON (column " + e.getLocation().getColumnNr() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new UserException(at + ": each line must be one JSON object");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw new UserException(at + ": unknown field '" + safeName(name) + "'; known fields: label, model, "
                        + "tenant, subjectId, texts, qaPairs, undecodable");
            }
        }
        String label = string(node, "label", at, "line " + lineNo);
        boolean undecodable = false;
        if (node.has("undecodable")) {
            if (!node.get("undecodable").isBoolean()) {
                throw new UserException(at + ": 'undecodable' must be true or false");
            }
            undecodable = node.get("undecodable").booleanValue();
        }
        if (undecodable) {
            for (String f : List.of("model", "tenant", "subjectId", "texts", "qaPairs")) {
                if (node.has(f)) {
                    throw new UserException(at + ": an undecodable request takes no '" + f + "' (only 'label')");
                }
            }
        }
        List<String> texts = new ArrayList<>();
        if (node.has("texts")) {
            JsonNode t = node.get("texts");
            if (!t.isArray()) {
                throw new UserException(at + ": 'texts' must be an array of strings");
            }
            for (int k = 0; k < t.size(); k++) {
                if (!t.get(k).isTextual()) {
                    throw new UserException(at + ": texts[" + k + "] must be a string");
                }
                texts.add(t.get(k).textValue());
            }
        }
        List<Qa> qas = new ArrayList<>();
        if (node.has("qaPairs")) {
            JsonNode q = node.get("qaPairs");
            if (!q.isArray()) {
                throw new UserException(at + ": 'qaPairs' must be an array of {\"question\", \"answer\"} objects");
            }
            for (int k = 0; k < q.size(); k++) {
                JsonNode pair = q.get(k);
                if (!pair.isObject() || pair.size() != 2 || !pair.path("question").isTextual()
                        || !pair.path("answer").isTextual()) {
                    throw new UserException(at + ": qaPairs[" + k + "] must be {\"question\": string, "
                            + "\"answer\": string}");
                }
                qas.add(new Qa(pair.get("question").textValue(), pair.get("answer").textValue()));
            }
        }
        return new DemoRequest(label, undecodable, string(node, "model", at, defaultModel),
                string(node, "tenant", at, defaultTenant), string(node, "subjectId", at, "subject-" + lineNo), texts,
                qas);
    }

    private static String string(JsonNode node, String field, String at, String dflt) {
        if (!node.has(field)) {
            return dflt;
        }
        JsonNode v = node.get(field);
        if (!v.isTextual() || v.textValue().isBlank()) {
            throw new UserException(at + ": '" + field + "' must be a non-blank string");
        }
        return v.textValue();
    }

    /** An unknown field's name, shown only when it looks like a field name (not a pasted value). */
    private static String safeName(String name) {
        return name.matches("[A-Za-z0-9_.-]{1,40}") ? name : "(a name that is not an identifier)";
    }
}
