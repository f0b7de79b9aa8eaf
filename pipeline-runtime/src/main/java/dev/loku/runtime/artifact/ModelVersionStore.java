package dev.loku.runtime.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.events.ArtifactRef;
import dev.loku.runtime.catalogue.ModelCatalogue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.FileAlreadyExistsException;
import java.util.Optional;
import java.util.UUID;

/**
 * Model versions on top of the {@link ArtifactStore} (docs/pipeline.md, "Identities"): {@code v0} is the base
 * checkpoint the catalogue names; every later version is a directory tree in the store, published by the worker
 * under {@code (modelId, version)}.
 * <ul>
 *   <li>{@link #publish} stores the folder as a tree and records {@code modelId/version -> ref} in an index
 *       ({@code <index>/<modelId>/<version>.json}, written atomically). Publishing the same version again with the
 *       same files is a no-op; with different files it is refused, since versions are immutable. The entry is
 *       created with a hard link, which fails when the name exists, so of concurrent publications of one version
 *       exactly one wins and the others are refused (or, with the same files, get the winner's ref).</li>
 *   <li>{@link #resolve} gives a local folder (or, for {@code v0}, the catalogue's path, which may be a single
 *       llama2.c file). Stored versions are materialised once into the cache, verified file by file; a cached
 *       folder exists only if it was materialised completely, so later calls reuse it without re-hashing.</li>
 * </ul>
 */
public final class ModelVersionStore {

    /** The version name of a model's base checkpoint. */
    public static final String BASE_VERSION = "v0";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ArtifactStore store;
    private final ModelCatalogue catalogue;
    private final Path index;
    private final Path cache;

    /**
     * @param index folder of the version index, shared by every service (normally {@code <artifacts.root>/model-versions})
     * @param cache folder where this process materialises versions (local disk)
     */
    public ModelVersionStore(ArtifactStore store, ModelCatalogue catalogue, Path index, Path cache) {
        this.store = store;
        this.catalogue = catalogue;
        this.index = index.toAbsolutePath().normalize();
        this.cache = cache.toAbsolutePath().normalize();
    }

    /** The usual layout: index and cache beside the blobs of a directory store. */
    public static ModelVersionStore inDirectory(DirectoryArtifactStore store, ModelCatalogue catalogue) {
        return inDirectory(store, store, catalogue);
    }

    /** The usual layout beside {@code directory}'s blobs, reading and writing them through {@code store}. */
    public static ModelVersionStore inDirectory(DirectoryArtifactStore directory, ArtifactStore store,
                                                ModelCatalogue catalogue) {
        return new ModelVersionStore(store, catalogue, directory.root().resolve("model-versions"),
                directory.root().resolve("materialised"));
    }

    /** Stores {@code folder} as {@code version} of {@code modelId}; returns the tree's ref. */
    public ArtifactRef publish(String modelId, String version, Path folder) throws IOException {
        catalogue.require(modelId);
        checkName(version);
        if (BASE_VERSION.equals(version)) {
            throw new IllegalArgumentException(BASE_VERSION + " is the catalogue's base checkpoint and cannot be published");
        }
        ArtifactRef ref = store.putTree(folder);
        Path entry = entry(modelId, version);
        Optional<ArtifactRef> existing = ref(modelId, version);
        if (existing.isPresent()) {
            return sameOrRefused(modelId, version, existing.get(), ref);
        }
        Files.createDirectories(entry.getParent());
        Path partial = entry.resolveSibling("." + entry.getFileName() + "." + UUID.randomUUID());
        try {
            Files.writeString(partial, JSON.createObjectNode().put("uri", ref.getUri()).put("sha256", ref.getSha256())
                    .put("sizeBytes", ref.getSizeBytes()).toString(), StandardCharsets.UTF_8);
            // The complete entry appears under its name in one step that fails when the name exists (link(2)), so of
            // two deliveries publishing the same version at once exactly one wins; a rename would let the second
            // replace the first after both had checked.
            Files.createLink(entry, partial);
        } catch (FileAlreadyExistsException e) {
            return sameOrRefused(modelId, version, ref(modelId, version).orElseThrow(() -> e), ref);
        } catch (UnsupportedOperationException e) {
            throw new IOException("the model version index needs hard links (" + index + "): versions are published "
                    + "with a link that fails when the version exists", e);
        } finally {
            Files.deleteIfExists(partial);
        }
        return ref;
    }

    private static ArtifactRef sameOrRefused(String modelId, String version, ArtifactRef existing, ArtifactRef ours) {
        if (!existing.getSha256().equals(ours.getSha256())) {
            throw new IllegalStateException("model " + modelId + " version " + version + " is already published "
                    + "as sha256:" + existing.getSha256() + "; versions are immutable");
        }
        return existing;
    }

    /** The tree ref of a published version; empty for {@code v0} and for versions never published. */
    public Optional<ArtifactRef> ref(String modelId, String version) throws IOException {
        checkName(version);
        Path entry = entry(modelId, version);
        if (BASE_VERSION.equals(version) || !Files.isRegularFile(entry)) {
            return Optional.empty();
        }
        JsonNode n = JSON.readTree(Files.readAllBytes(entry));
        return Optional.of(new ArtifactRef(n.path("uri").asText(), n.path("sha256").asText(), n.path("sizeBytes").asLong()));
    }

    /**
     * A local path holding {@code version} of {@code modelId}: the catalogue's base checkpoint for {@code v0},
     * otherwise the published tree, materialised and verified.
     *
     * @throws IllegalArgumentException for a model not in the catalogue or a version never published
     * @throws CorruptArtifactException when a stored file does not match its manifest
     */
    public Path resolve(String modelId, String version) throws IOException {
        if (BASE_VERSION.equals(version)) {
            return catalogue.require(modelId).baseCheckpoint();
        }
        catalogue.require(modelId);
        ArtifactRef ref = ref(modelId, version).orElseThrow(() -> new IllegalArgumentException("model " + modelId
                + " has no published version " + version));
        return materialise(modelId, version, ref);
    }

    /**
     * Withdraws a candidate that will never be served (its forget set failed verification, or another attempt was
     * promoted): removes its index entry, its tree (blobs another tree lists are kept) and this process's
     * materialised copies. Returns false when the version was not published. A promoted version must never be
     * withdrawn: later forget sets start from it.
     */
    public boolean withdraw(String modelId, String version) throws IOException {
        Optional<ArtifactRef> ref = ref(modelId, version);
        Path cached = cache.resolve(modelId);
        if (Files.isDirectory(cached)) {
            try (var folders = Files.newDirectoryStream(cached, version + "-*")) {
                for (Path f : folders) {
                    deleteRecursively(f);
                }
            }
        }
        if (ref.isEmpty()) {
            return false;
        }
        // Index entry first: a version that cannot be resolved any more is never materialised half-deleted.
        Files.deleteIfExists(entry(modelId, version));
        store.deleteTree(ref.get());
        return true;
    }

    private static void deleteRecursively(Path path) throws IOException {
        try (var walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Materialises any tree ref (e.g. a candidate from UnlearnCompleted.model) under {@code modelId/version}. */
    public Path materialise(String modelId, String version, ArtifactRef ref) throws IOException {
        checkName(version);
        Path target = cache.resolve(modelId).resolve(version + "-" + ref.getSha256().substring(0, 12));
        if (Files.isDirectory(target)) {
            return target;
        }
        try {
            return store.materialiseTree(ref, target);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return target; // another thread finished the same folder first
        }
    }

    private Path entry(String modelId, String version) {
        if (!modelId.matches("[A-Za-z0-9._-]{1,128}")) {
            throw new IllegalArgumentException("not a model id: use letters, digits, '.', '_' or '-'");
        }
        return index.resolve(modelId).resolve(version + ".json");
    }

    private static void checkName(String version) {
        if (version == null || !version.matches("[A-Za-z0-9._-]{1,128}") || version.startsWith(".")) {
            throw new IllegalArgumentException("not a model version name: use letters, digits, '.', '_' or '-'");
        }
    }
}
