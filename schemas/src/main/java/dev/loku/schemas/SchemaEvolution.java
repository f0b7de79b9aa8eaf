package dev.loku.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * The project's evolution rule, FULL_TRANSITIVE: the current schema of an event must read data written with every
 * released version (backward), and every released version must read data written with the current schema
 * (forward), so producers and consumers can be upgraded in any order. The same level is set on the registry.
 */
public final class SchemaEvolution {

    private SchemaEvolution() {
    }

    /** One way in which the current schema breaks the rule against one released version. */
    public record Violation(String event, int version, String direction, String fieldPath, String kind,
                            String detail) {
        @Override
        public String toString() {
            return event + ": " + direction + " incompatible with released v" + version + " at field '" + fieldPath
                    + "': " + kind + " (" + detail + ")";
        }
    }

    /**
     * Every violation of FULL_TRANSITIVE compatibility between {@code current} and each of {@code released}
     * (version number to schema); empty when the change is safe.
     */
    public static List<Violation> fullTransitiveViolations(Schema current, Map<Integer, Schema> released) {
        List<Violation> violations = new ArrayList<>();
        for (Map.Entry<Integer, Schema> e : released.entrySet()) {
            Schema old = e.getValue();
            // backward: new readers, old data
            collect(current, old, current.getName(), e.getKey(),
                    "backward (current schema cannot read data written with it)", violations);
            // forward: old readers, new data
            collect(old, current, current.getName(), e.getKey(),
                    "forward (consumers on it cannot read data written with the current schema)", violations);
        }
        return violations;
    }

    private static void collect(Schema reader, Schema writer, String event, int version, String direction,
                                List<Violation> out) {
        SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (result.getType() == SchemaCompatibilityType.COMPATIBLE) {
            return;
        }
        for (Incompatibility i : result.getResult().getIncompatibilities()) {
            out.add(new Violation(event, version, direction, fieldPath(reader, i.getLocation()),
                    i.getType().name(), i.getMessage()));
        }
    }

    /**
     * Turns Avro's JSON-pointer location ({@code /fields/2/type/items/fields/0}) into field names
     * ({@code qaPairs[].question}), so the message says which field broke.
     */
    static String fieldPath(Schema schema, String location) {
        if (location == null || location.isEmpty() || location.equals("/")) {
            return "(record " + schema.getName() + ")";
        }
        String[] parts = location.substring(1).split("/");
        StringBuilder path = new StringBuilder();
        Schema at = schema;
        for (int i = 0; i < parts.length && at != null; i++) {
            String p = parts[i];
            switch (p) {
                case "fields" -> {
                    if (i + 1 >= parts.length || at.getType() != Schema.Type.RECORD) {
                        return path.isEmpty() ? location : path.toString();
                    }
                    int index = Integer.parseInt(parts[++i]);
                    if (index >= at.getFields().size()) {
                        return path.isEmpty() ? location : path.toString();
                    }
                    Schema.Field f = at.getFields().get(index);
                    if (!path.isEmpty()) {
                        path.append('.');
                    }
                    path.append(f.name());
                    at = f.schema();
                }
                case "type" -> { /* the field's schema: already there */ }
                case "items" -> {
                    path.append("[]");
                    at = at.getType() == Schema.Type.ARRAY ? at.getElementType() : null;
                }
                case "values" -> {
                    path.append("{}");
                    at = at.getType() == Schema.Type.MAP ? at.getValueType() : null;
                }
                default -> {
                    if (at.getType() == Schema.Type.UNION && p.chars().allMatch(Character::isDigit)) {
                        int branch = Integer.parseInt(p);
                        at = branch < at.getTypes().size() ? at.getTypes().get(branch) : null;
                    } else {
                        // "symbols", "name", "size": properties of the schema reached so far
                        return path.isEmpty() ? "(record " + schema.getName() + ")" : path.toString();
                    }
                }
            }
        }
        return path.isEmpty() ? "(record " + schema.getName() + ")" : path.toString();
    }
}
