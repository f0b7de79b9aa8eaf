package dev.loku.runtime.artifact;

import dev.loku.events.ArtifactRef;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The claim-check store (docs/pipeline.md, "Artifacts"): content-addressed blobs and directory trees, referred to
 * by {@link ArtifactRef}{uri, sha256, sizeBytes} in events.
 * <ul>
 *   <li><b>Content-addressed.</b> A blob's id is the SHA-256 of its bytes; writing the same bytes twice gives the
 *       same ref and stores them once, so a job re-run after a crash writes nothing new.</li>
 *   <li><b>Atomic.</b> A reader never sees half a blob: writes go to a temporary file moved into place.</li>
 *   <li><b>Verified on every read.</b> Bytes that no longer hash to the ref's sha256 (or have another size) raise
 *       {@link CorruptArtifactException}; they are never handed to the caller.</li>
 *   <li><b>Trees.</b> A folder (a model version) is stored as its files' blobs plus a manifest listing relative path,
 *       sha256 and size of each file; the manifest is itself a blob, and its hash is the tree ref's sha256.</li>
 * </ul>
 * Messages of the exceptions name refs and paths, never contents: artifacts hold the data being erased.
 *
 * <p>{@link DirectoryArtifactStore} is the implementation on a (shared) file system; an object store would
 * implement the same interface.
 */
public interface ArtifactStore {

    /** Stores {@code bytes}; returns their ref (the existing one when the same bytes are already stored). */
    ArtifactRef put(byte[] bytes) throws IOException;

    /** Stores a copy of the file at {@code file}, streaming (for large weights). */
    ArtifactRef putFile(Path file) throws IOException;

    /**
     * The blob's bytes, verified.
     *
     * @throws ArtifactNotFoundException when the store has no such blob (e.g. purged)
     * @throws CorruptArtifactException  when its bytes do not match the ref
     */
    byte[] read(ArtifactRef ref) throws IOException;

    /** Copies the blob to {@code target} (replacing it), verified while copying; a corrupt copy is removed. */
    void copyTo(ArtifactRef ref, Path target) throws IOException;

    /** Whether the blob is present (not whether it is intact: only a read verifies). */
    boolean exists(ArtifactRef ref);

    /** Deletes the blob; returns false when it was not there. Used to purge forget data after a verdict. */
    boolean delete(ArtifactRef ref) throws IOException;

    /**
     * Stores every regular file under {@code folder} and a manifest of them; returns the manifest's ref. Symbolic
     * links and empty folders are not kept.
     */
    ArtifactRef putTree(Path folder) throws IOException;

    /** The manifest of a stored tree, verified. */
    TreeManifest manifest(ArtifactRef treeRef) throws IOException;

    /**
     * Writes the tree into {@code target} (created; must be empty or absent), verifying every file, and returns
     * {@code target}. On failure {@code target} is removed, so a folder that exists was materialised completely.
     */
    Path materialiseTree(ArtifactRef treeRef, Path target) throws IOException;

    /**
     * Deletes the tree's manifest and those of its blobs that no other stored tree lists (two model versions
     * share e.g. their tokenizer file). Returns false when the manifest was not there.
     */
    boolean deleteTree(ArtifactRef treeRef) throws IOException;
}
