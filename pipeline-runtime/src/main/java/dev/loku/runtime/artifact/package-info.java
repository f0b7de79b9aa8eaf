/**
 * The claim-check store: content-addressed blobs and directory trees
 * ({@link dev.loku.runtime.artifact.ArtifactStore}, {@link dev.loku.runtime.artifact.DirectoryArtifactStore}),
 * verified on every read ({@link dev.loku.runtime.artifact.CorruptArtifactException}), and model versions on top
 * ({@link dev.loku.runtime.artifact.ModelVersionStore}: {@code v0} is the catalogue's base checkpoint, later
 * versions are published trees). Exceptions name refs, never contents.
 */
package dev.loku.runtime.artifact;
