package dev.loku.schemas;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a check but the release step for schema changes, run on purpose:
 * {@code mvn -pl schemas test -Dtest=SchemaReleaseTool -Dloku.schemas.release=true}. For every event whose current
 * schema differs from its latest released version it writes {@code history/<Event>/v<N+1>.avsc}; commit those files
 * with the change. Skipped in ordinary builds.
 */
@EnabledIfSystemProperty(named = "loku.schemas.release", matches = "true")
class SchemaReleaseTool {

    @Test
    void releaseChangedSchemas() {
        SchemaHistory history = SchemaFiles.history();
        for (Schema event : SchemaFiles.currentEvents()) {
            // Never release an incompatible change: the evolution test would fail for ever after.
            var violations = SchemaEvolution.fullTransitiveViolations(event, history.versions(event.getName()));
            assertTrue(violations.isEmpty(), () -> "not released, incompatible: " + violations);
            Path written = history.release(event);
            System.out.println(written == null ? event.getName() + ": unchanged" : "released " + written);
        }
    }
}
