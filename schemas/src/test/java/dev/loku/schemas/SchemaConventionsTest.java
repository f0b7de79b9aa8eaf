package dev.loku.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * The conventions every event schema follows (issue 2): documented records and fields, enums that can grow,
 * optional fields as ["null", T] defaulting to null, uuid ids and timestamp-millis times.
 */
class SchemaConventionsTest {

    private final List<String> problems = new ArrayList<>();
    private final Set<String> visited = new HashSet<>();

    @Test
    void everyEventFollowsTheSchemaConventions() {
        for (Schema event : SchemaFiles.currentEvents()) {
            assertEquals("dev.loku.events", event.getNamespace(), event.getName());
            walk(event.getName(), event);
        }
        assertTrue(problems.isEmpty(), () -> "schema convention violations:\n  " + String.join("\n  ", problems));
    }

    @Test
    void theConventionCheckNoticesAnUndocumentedFieldAndAnEnumWithoutDefault() {
        Schema bad = new Schema.Parser().parse("""
                {"type":"record","name":"Bad","namespace":"dev.loku.events","doc":"d","fields":[
                  {"name":"size","type":"int"},
                  {"name":"kind","doc":"d","type":{"type":"enum","name":"Kind","doc":"d","symbols":["A","B"]}},
                  {"name":"note","doc":"d","type":["string","null"]},
                  {"name":"createdAt","doc":"d","type":"long"}]}""");
        walk("Bad", bad);
        assertEquals(4, problems.size(), problems::toString);
    }

    private void walk(String path, Schema s) {
        switch (s.getType()) {
            case RECORD -> {
                if (!visited.add(s.getFullName())) {
                    return;
                }
                if (isBlank(s.getDoc())) {
                    problems.add(path + ": record " + s.getName() + " has no doc");
                }
                for (Schema.Field f : s.getFields()) {
                    String fp = path + "." + f.name();
                    if (isBlank(f.doc())) {
                        problems.add(fp + ": field has no doc");
                    }
                    checkOptional(fp, f);
                    checkLogicalTypes(fp, f);
                    walk(fp, f.schema());
                }
            }
            case ENUM -> {
                if (!visited.add(s.getFullName())) {
                    return;
                }
                if (s.getEnumDefault() == null) {
                    problems.add(path + ": enum " + s.getName() + " has no default symbol, so it cannot grow");
                }
                if (isBlank(s.getDoc())) {
                    problems.add(path + ": enum " + s.getName() + " has no doc");
                }
            }
            case ARRAY -> walk(path + "[]", s.getElementType());
            case MAP -> walk(path + "{}", s.getValueType());
            case UNION -> s.getTypes().forEach(t -> walk(path, t));
            default -> { }
        }
    }

    private void checkOptional(String fp, Schema.Field f) {
        if (f.schema().getType() != Schema.Type.UNION) {
            return;
        }
        List<Schema> types = f.schema().getTypes();
        boolean nullFirst = types.size() == 2 && types.get(0).getType() == Schema.Type.NULL;
        if (!nullFirst || f.defaultVal() != JsonProperties.NULL_VALUE) {
            problems.add(fp + ": optional fields are [\"null\", T] with default null");
        }
    }

    private void checkLogicalTypes(String fp, Schema.Field f) {
        Schema s = f.schema();
        if (s.getType() == Schema.Type.UNION) {
            s = s.getTypes().get(s.getTypes().size() - 1);
        }
        String name = f.name();
        if ((name.endsWith("At") || name.equals("at") || name.equals("time"))
                && !(s.getLogicalType() instanceof LogicalTypes.TimestampMillis)) {
            problems.add(fp + ": times are timestamp-millis");
        }
        boolean idField = name.equals("requestId") || name.equals("forgetSetId") || name.equals("jobId")
                || name.equals("eventId") || name.equals("requestIds");
        Schema idSchema = s.getType() == Schema.Type.ARRAY ? s.getElementType() : s;
        if (idField && !"uuid".equals(idSchema.getLogicalType() == null ? null : idSchema.getLogicalType().getName())) {
            problems.add(fp + ": request, forget-set, job and event ids are uuid strings");
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
