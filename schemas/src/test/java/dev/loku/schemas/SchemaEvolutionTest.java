package dev.loku.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.ErasureRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evolution rule (FULL_TRANSITIVE against every released version) holds, and would catch a breaking change. */
class SchemaEvolutionTest {

    /** Every problem with the released history of {@code events}: missing history or an incompatible change. */
    static List<String> problems(SchemaHistory history, List<Schema> events) {
        List<String> problems = new ArrayList<>();
        for (Schema event : events) {
            Map<Integer, Schema> released = history.versions(event.getName());
            if (released.isEmpty()) {
                problems.add(event.getName() + " has no released version under " + history.root().resolve(event.getName())
                        + "; release it with: mvn -pl schemas test -Dtest=SchemaReleaseTool -Dloku.schemas.release=true");
                continue;
            }
            SchemaEvolution.fullTransitiveViolations(event, released).forEach(v -> problems.add(v.toString()));
        }
        return problems;
    }

    @Test
    void everyEventIsFullTransitiveCompatibleWithAllItsReleasedVersions() {
        List<String> problems = problems(SchemaFiles.history(), SchemaFiles.currentEvents());
        assertTrue(problems.isEmpty(), () -> "schema evolution rule broken:\n  " + String.join("\n  ", problems));
    }

    @Test
    void everyEventSchemaFileIsInTheCatalogueAndHasHistory() throws IOException {
        // A new event .avsc that no topic carries, or that was never released, must not slip through.
        Set<String> sourceEvents;
        try (Stream<Path> files = Files.list(SchemaFiles.moduleDir().resolve("src/main/avro"))) {
            sourceEvents = files.filter(p -> p.toString().endsWith(".avsc"))
                    .map(p -> p.getFileName().toString().replace(".avsc", ""))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        Set<String> catalogued = SchemaFiles.currentEvents().stream().map(Schema::getName)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(sourceEvents, catalogued, "every top-level .avsc is an event carried by exactly one catalogue topic");
        assertEquals(9, catalogued.size());
        for (String event : catalogued) {
            assertFalse(SchemaFiles.history().versions(event).isEmpty(), event + " has no schemas/history/" + event + "/v1.avsc");
        }
    }

    @Test
    void anEventWithoutHistoryIsReported(@TempDir Path emptyHistory) {
        List<String> problems = problems(new SchemaHistory(emptyHistory), List.of(ErasureRequest.getClassSchema()));
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("ErasureRequest has no released version"), problems.get(0));
    }

    @Test
    void catchesAChangedFieldTypeAndAFieldAddedWithoutDefault() {
        // The variant turns subjectId from string into long and adds 'priority' (int) with no default.
        Schema broken = resource("evolution/ErasureRequest-incompatible.avsc");
        List<SchemaEvolution.Violation> violations = SchemaEvolution.fullTransitiveViolations(broken,
                SchemaFiles.history().versions("ErasureRequest"));

        String report = violations.stream().map(Object::toString).collect(Collectors.joining("\n"));
        assertTrue(violations.stream().anyMatch(v -> v.fieldPath().equals("subjectId") && v.kind().equals("TYPE_MISMATCH")),
                report);
        assertTrue(violations.stream().anyMatch(v -> v.fieldPath().equals("priority")
                && v.kind().equals("READER_FIELD_MISSING_DEFAULT_VALUE") && v.direction().startsWith("backward")), report);
        // The message a developer reads names the event, the released version and the field.
        assertTrue(report.contains("ErasureRequest: backward (current schema cannot read data written with it) "
                + "incompatible with released v1 at field 'priority'"), report);
    }

    @Test
    void catchesABreakingChangeInsideANestedRecord() {
        // qaPairs[].answer renamed to 'reply' without alias or default: old data lacks it, new readers fail.
        Schema broken = resource("evolution/ErasureRequest-nested-incompatible.avsc");
        List<SchemaEvolution.Violation> violations = SchemaEvolution.fullTransitiveViolations(broken,
                SchemaFiles.history().versions("ErasureRequest"));
        assertTrue(violations.stream().anyMatch(v -> v.fieldPath().equals("qaPairs[].reply")), violations::toString);
    }

    @Test
    void acceptsAnOptionalFieldAndANewEnumSymbol() {
        // The variant adds ["null","string"] 'locale' with default null and a new ErasureReason symbol: safe both ways
        // (old readers map the unknown symbol to the enum's default).
        Schema evolved = resource("evolution/ErasureRequest-compatible.avsc");
        assertEquals(List.of(), SchemaEvolution.fullTransitiveViolations(evolved,
                SchemaFiles.history().versions("ErasureRequest")));
    }

    @Test
    void namesFieldsFromAvroLocations() {
        Schema s = ErasureRequest.getClassSchema();
        assertEquals("qaPairs[].question", SchemaEvolution.fieldPath(s, "/fields/5/type/items/fields/0"));
        assertEquals("reason", SchemaEvolution.fieldPath(s, "/fields/6/type/symbols"));
        assertEquals("deadlineAt", SchemaEvolution.fieldPath(s, "/fields/9/type/1"));
        assertEquals("(record ErasureRequest)", SchemaEvolution.fieldPath(s, "/"));
    }

    private static Schema resource(String name) {
        try (InputStream in = SchemaEvolutionTest.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
