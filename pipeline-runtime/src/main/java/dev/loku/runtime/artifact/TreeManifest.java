package dev.loku.runtime.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a stored directory tree contains: each file's path relative to the tree's root ('/'-separated), sha256 and
 * size, sorted by path. Its canonical JSON ({@link #toJson()}, stable field order and spacing) is stored as a blob
 * whose sha256 identifies the tree: the same files give the same tree ref.
 *
 * @param files the entries, sorted by path
 */
public record TreeManifest(List<Entry> files) {

    /** Format marker in the JSON, so a manifest is recognisable and its format can evolve. */
    public static final String FORMAT = "loku-tree/1";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One file of the tree. */
    public record Entry(String path, String sha256, long sizeBytes) {
        public Entry {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(sha256, "sha256");
            if (path.isEmpty() || path.startsWith("/") || path.contains("\\")
                    || List.of(path.split("/")).stream().anyMatch(s -> s.isEmpty() || s.equals(".") || s.equals(".."))) {
                // A manifest is read back from storage: a path escaping the tree must never be written out.
                throw new IllegalArgumentException("manifest path must be relative and stay inside the tree: " + path);
            }
            if (!Sha256.isHex(sha256)) {
                throw new IllegalArgumentException("manifest entry " + path + " has no valid sha256");
            }
        }
    }

    public TreeManifest {
        files = files.stream().sorted(Comparator.comparing(Entry::path)).toList();
        Set<String> seen = new HashSet<>();
        for (Entry e : files) {
            if (!seen.add(e.path())) {
                throw new IllegalArgumentException("manifest lists " + e.path() + " twice");
            }
        }
    }

    /** Total bytes of the files. */
    public long totalBytes() {
        return files.stream().mapToLong(Entry::sizeBytes).sum();
    }

    /** The canonical JSON bytes (UTF-8). */
    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        ArrayNode list = root.putArray("files");
        for (Entry e : files) {
            list.addObject().put("path", e.path()).put("sha256", e.sha256()).put("sizeBytes", e.sizeBytes());
        }
        try {
            return JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses manifest JSON; {@code what} names it in errors. */
    public static TreeManifest parse(byte[] json, String what) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new IOException(what + " is not a tree manifest (not JSON)");
        }
        if (root == null || !FORMAT.equals(root.path("format").asText()) || !root.path("files").isArray()) {
            throw new IOException(what + " is not a tree manifest (format '" + FORMAT + "' expected)");
        }
        List<Entry> entries = new ArrayList<>();
        try {
            for (JsonNode n : root.get("files")) {
                entries.add(new Entry(n.path("path").asText(), n.path("sha256").asText(), n.path("sizeBytes").asLong(-1)));
            }
            return new TreeManifest(entries);
        } catch (IllegalArgumentException e) {
            throw new IOException(what + " is not a valid tree manifest: " + e.getMessage());
        }
    }
}
