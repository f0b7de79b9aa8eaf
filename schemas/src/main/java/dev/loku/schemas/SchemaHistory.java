package dev.loku.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaFormatter;
import org.apache.avro.SchemaNormalization;

/**
 * The released versions of each event schema, kept as {@code <root>/<Event>/v<N>.avsc} (schemas/history in the
 * repository). Each file is the event's complete schema as released (named types inlined), so it stays readable
 * after the shared types under src/main/avro/common change.
 */
public final class SchemaHistory {

    private static final Pattern VERSION_FILE = Pattern.compile("v([1-9][0-9]*)\\.avsc");

    private final Path root;

    public SchemaHistory(Path root) {
        this.root = root;
    }

    /** The folder holding one sub-folder per event. */
    public Path root() {
        return root;
    }

    /** The released versions of {@code event} by version number; empty if it has none (never released). */
    public SortedMap<Integer, Schema> versions(String event) {
        Path dir = root.resolve(event);
        if (!Files.isDirectory(dir)) {
            return Collections.emptySortedMap();
        }
        SortedMap<Integer, Schema> versions = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Matcher m = VERSION_FILE.matcher(file.getFileName().toString());
                if (m.matches()) {
                    versions.put(Integer.parseInt(m.group(1)), parse(file));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list schema history " + dir, e);
        }
        return versions;
    }

    /**
     * Records {@code current} as the next released version of its event if it differs from the latest one (by
     * Avro's parsing canonical form plus docs and defaults, i.e. by its full JSON). Returns the file written, or
     * null when the latest version is already identical.
     */
    public Path release(Schema current) {
        String event = current.getName();
        SortedMap<Integer, Schema> versions = versions(event);
        if (!versions.isEmpty() && sameRelease(versions.get(versions.lastKey()), current)) {
            return null;
        }
        int next = versions.isEmpty() ? 1 : versions.lastKey() + 1;
        Path file = root.resolve(event).resolve("v" + next + ".avsc");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, SchemaFormatter.format("json/pretty", current) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    private static boolean sameRelease(Schema a, Schema b) {
        return SchemaNormalization.parsingFingerprint64(a) == SchemaNormalization.parsingFingerprint64(b)
                && a.toString().equals(b.toString());
    }

    /** Parses one history file on its own (it must not depend on other files). */
    public static Schema parse(Path file) {
        try {
            return new Schema.Parser().parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("schema history file " + file + " is not a valid Avro schema: "
                    + e.getMessage(), e);
        }
    }
}
