package dev.loku.schemas;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.Schema;

/** Where the schemas module's files are when tests run (Surefire runs in the module folder). */
final class SchemaFiles {

    private SchemaFiles() {
    }

    /** The schemas module's folder. */
    static Path moduleDir() {
        String root = System.getProperty("loku.project.root");
        if (root != null && Files.isDirectory(Path.of(root, "schemas", "history"))) {
            return Path.of(root, "schemas");
        }
        return Path.of("").toAbsolutePath();
    }

    /** schemas/history: released versions of every event. */
    static SchemaHistory history() {
        return new SchemaHistory(moduleDir().resolve("history"));
    }

    /** The current schema of every event, from the catalogue (one event per topic). */
    static java.util.List<Schema> currentEvents() {
        return Topics.ALL.stream().map(Topic::valueSchema).toList();
    }
}
