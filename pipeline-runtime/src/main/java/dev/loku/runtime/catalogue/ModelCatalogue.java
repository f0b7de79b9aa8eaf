package dev.loku.runtime.catalogue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.events.AdapterInitialization;
import dev.loku.events.UnlearningObjective;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The models the platform may unlearn (docs/pipeline.md, "Model catalogue"), read from a JSON file:
 *
 * <pre>{@code
 * {"models": [{
 *   "id": "stories260k",
 *   "baseCheckpoint": "models/stories260K/stories260K.bin",
 *   "tenants": ["acme"],
 *   "retainData": "data/retain.jsonl",
 *   "unseenData": "data/unseen.jsonl",
 *   "generalData": "data/stories.jsonl",
 *   "profile": {"method": "INVERTED_HINGE_LOSS", "initialization": "FILA", "loraRank": 4, "learningRate": 0.001,
 *               "maxEpochs": 10, "retainTolerance": 0.05, "generalTolerance": 0.1, "maxAttempts": 3,
 *               "retry": {"learningRateFactor": 2.0, "maxEpochsFactor": 1.5, "loraRankFactor": 1.0}}
 * }]}
 * }</pre>
 *
 * Relative paths are resolved against the catalogue file's folder. {@code initialization} (default FILA),
 * {@code generalTolerance} (default {@value UnlearningProfile#DEFAULT_GENERAL_TOLERANCE} nats) and {@code retry}
 * (default {@link UnlearningProfile.RetryStrengthening#DEFAULT}) may be left out; everything else is
 * required. Unknown fields are refused (a misspelt {@code loraRank} must not silently fall back to a default). Every
 * error names the file and the field, e.g. {@code catalogue.json: models[1].profile.loraRank: must be >= 1, was 0}.
 *
 * <p>Loading checks the structure only: the ingest service needs ids and tenants, not the model files, and may run
 * where those files are not. Services that read the files call {@link #checkFilesExist()} at start-up.
 */
public final class ModelCatalogue {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> MODEL_FIELDS = Set.of("id", "baseCheckpoint", "tenants", "retainData", "unseenData",
            "generalData", "profile", "description");
    private static final Set<String> PROFILE_FIELDS = Set.of("method", "initialization", "loraRank", "learningRate",
            "maxEpochs", "retainTolerance", "generalTolerance", "maxAttempts", "retry");
    private static final Set<String> RETRY_FIELDS = Set.of("learningRateFactor", "maxEpochsFactor", "loraRankFactor");

    private final Path file;
    private final Map<String, CatalogueModel> models;

    private ModelCatalogue(Path file, Map<String, CatalogueModel> models) {
        this.file = file;
        this.models = models;
    }

    /**
     * Reads and validates the catalogue.
     *
     * @throws InvalidCatalogueException naming the file and the offending field
     */
    public static ModelCatalogue load(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new InvalidCatalogueException("model catalogue " + file + " does not exist; set models.catalogue to "
                    + "the catalogue's JSON file");
        } catch (JsonProcessingException e) {
            throw new InvalidCatalogueException("model catalogue " + file + " is not valid JSON (line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new InvalidCatalogueException("model catalogue " + file + " cannot be read: " + e.getMessage());
        }
        return new Parser(file).catalogue(root);
    }

    /** The file it was read from. */
    public Path file() {
        return file;
    }

    /** The model called {@code id}, if the catalogue has it. */
    public Optional<CatalogueModel> find(String id) {
        return Optional.ofNullable(models.get(id));
    }

    /** The model called {@code id}; a missing one is a user error naming the catalogue. */
    public CatalogueModel require(String id) {
        CatalogueModel m = models.get(id);
        if (m == null) {
            throw new IllegalArgumentException("model '" + id + "' is not in the model catalogue " + file
                    + "; known: " + models.keySet());
        }
        return m;
    }

    /** Every model, in file order. */
    public Collection<CatalogueModel> models() {
        return models.values();
    }

    /**
     * Checks that every model's checkpoint and data files exist, for services that read them.
     *
     * @throws InvalidCatalogueException naming the first missing path and its field
     */
    public void checkFilesExist() {
        int i = 0;
        for (CatalogueModel m : models.values()) {
            exists(m.baseCheckpoint(), i, "baseCheckpoint");
            exists(m.retainData(), i, "retainData");
            exists(m.unseenData(), i, "unseenData");
            exists(m.generalData(), i, "generalData");
            i++;
        }
    }

    private void exists(Path path, int index, String field) {
        if (!Files.exists(path)) {
            throw new InvalidCatalogueException(file + ": models[" + index + "]." + field + ": " + path
                    + " does not exist");
        }
    }

    /** Walks the JSON tree keeping the path of the current field for error messages. */
    private static final class Parser {
        private final Path file;
        private final Path base;

        Parser(Path file) {
            this.file = file;
            this.base = file.toAbsolutePath().getParent();
        }

        ModelCatalogue catalogue(JsonNode root) {
            object(root, "(top level)", Set.of("models"));
            JsonNode list = root.get("models");
            if (list == null || !list.isArray() || list.isEmpty()) {
                throw error("models", "must be a non-empty array of models");
            }
            Map<String, CatalogueModel> models = new LinkedHashMap<>();
            for (int i = 0; i < list.size(); i++) {
                CatalogueModel m = model(list.get(i), "models[" + i + "]");
                if (models.putIfAbsent(m.id(), m) != null) {
                    throw error("models[" + i + "].id", "'" + m.id() + "' is listed twice");
                }
            }
            return new ModelCatalogue(file, java.util.Collections.unmodifiableMap(models));
        }

        private CatalogueModel model(JsonNode node, String at) {
            object(node, at, MODEL_FIELDS);
            String id = text(node, at, "id");
            if (!id.matches("[A-Za-z0-9._-]{1,128}")) {
                throw error(at + ".id", "must be letters, digits, '.', '_' or '-' (1 to 128 characters)");
            }
            JsonNode tenants = node.get("tenants");
            if (tenants == null || !tenants.isArray() || tenants.isEmpty()) {
                throw error(at + ".tenants", "must be a non-empty array of tenant ids");
            }
            Set<String> tenantIds = new LinkedHashSet<>();
            for (int i = 0; i < tenants.size(); i++) {
                if (!tenants.get(i).isTextual() || tenants.get(i).asText().isBlank()) {
                    throw error(at + ".tenants[" + i + "]", "must be a non-blank string");
                }
                tenantIds.add(tenants.get(i).asText());
            }
            return new CatalogueModel(id, path(node, at, "baseCheckpoint"), tenantIds, path(node, at, "retainData"),
                    path(node, at, "unseenData"), path(node, at, "generalData"),
                    profile(node.get("profile"), at + ".profile"));
        }

        private UnlearningProfile profile(JsonNode node, String at) {
            if (node == null) {
                throw error(at, "is required");
            }
            object(node, at, PROFILE_FIELDS);
            UnlearningObjective method = enumValue(node, at, "method", UnlearningObjective.class, null);
            AdapterInitialization init = enumValue(node, at, "initialization", AdapterInitialization.class,
                    AdapterInitialization.FILA);
            int rank = integer(node, at, "loraRank", 1, 4096);
            double lr = number(node, at, "learningRate", Double.MIN_VALUE, 1.0);
            int epochs = integer(node, at, "maxEpochs", 1, 10_000);
            double tolerance = number(node, at, "retainTolerance", 0.0, 10.0);
            double generalTolerance = node.has("generalTolerance")
                    ? number(node, at, "generalTolerance", 0.0, 100.0) : UnlearningProfile.DEFAULT_GENERAL_TOLERANCE;
            int attempts = integer(node, at, "maxAttempts", 1, 100);
            UnlearningProfile.RetryStrengthening retry = UnlearningProfile.RetryStrengthening.DEFAULT;
            JsonNode r = node.get("retry");
            if (r != null) {
                String rat = at + ".retry";
                object(r, rat, RETRY_FIELDS);
                retry = new UnlearningProfile.RetryStrengthening(number(r, rat, "learningRateFactor", 1.0, 100.0),
                        number(r, rat, "maxEpochsFactor", 1.0, 100.0), number(r, rat, "loraRankFactor", 1.0, 100.0));
            }
            return new UnlearningProfile(method, init, rank, lr, epochs, tolerance, generalTolerance, attempts, retry);
        }

        private void object(JsonNode node, String at, Set<String> known) {
            if (node == null || !node.isObject()) {
                throw error(at, "must be a JSON object");
            }
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!known.contains(name)) {
                    throw error(at, "unknown field '" + name + "'; known fields: " + new java.util.TreeSet<>(known));
                }
            }
        }

        private String text(JsonNode node, String at, String field) {
            JsonNode v = node.get(field);
            if (v == null || !v.isTextual() || v.asText().isBlank()) {
                throw error(at + "." + field, "is required and must be a non-blank string");
            }
            return v.asText();
        }

        private Path path(JsonNode node, String at, String field) {
            String text = text(node, at, field);
            try {
                Path p = Path.of(text);
                return p.isAbsolute() ? p : base.resolve(p).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                throw error(at + "." + field, "is not a valid path (" + e.getReason() + ")");
            }
        }

        private int integer(JsonNode node, String at, String field, int min, int max) {
            JsonNode v = node.get(field);
            if (v == null || !v.isIntegralNumber()) {
                throw error(at + "." + field, "is required and must be a whole number");
            }
            long n = v.asLong();
            if (n < min || n > max) {
                throw error(at + "." + field, "must be between " + min + " and " + max + ", was " + n);
            }
            return (int) n;
        }

        private double number(JsonNode node, String at, String field, double min, double max) {
            JsonNode v = node.get(field);
            if (v == null || !v.isNumber()) {
                throw error(at + "." + field, "is required and must be a number");
            }
            double d = v.asDouble();
            if (!(d >= min && d <= max)) {
                throw error(at + "." + field, "must be " + (min == Double.MIN_VALUE ? "> 0" : ">= " + min)
                        + " and <= " + max + ", was " + d);
            }
            return d;
        }

        private <E extends Enum<E>> E enumValue(JsonNode node, String at, String field, Class<E> type, E fallback) {
            JsonNode v = node.get(field);
            List<String> allowed = new ArrayList<>();
            Arrays.stream(type.getEnumConstants()).filter(e -> !e.name().equals("UNKNOWN")).forEach(e -> allowed.add(e.name()));
            if (v == null && fallback != null) {
                return fallback;
            }
            if (v == null || !v.isTextual() || !allowed.contains(v.asText())) {
                throw error(at + "." + field, (v == null ? "is required" : "'" + v.asText() + "' is not known")
                        + "; one of " + allowed);
            }
            return Enum.valueOf(type, v.asText());
        }

        private InvalidCatalogueException error(String at, String what) {
            return new InvalidCatalogueException(file + ": " + at + ": " + what);
        }
    }
}
