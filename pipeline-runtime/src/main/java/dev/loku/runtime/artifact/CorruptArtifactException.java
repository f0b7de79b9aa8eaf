package dev.loku.runtime.artifact;

import dev.loku.events.ArtifactRef;
import java.io.IOException;

/**
 * Stored bytes do not match their ref (hash or size): the artifact was damaged or tampered with, and is not used.
 * The message names the ref and what was found, never the bytes.
 */
public class CorruptArtifactException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String sha256;

    public CorruptArtifactException(ArtifactRef ref, String found) {
        super("artifact sha256:" + ref.getSha256() + " (" + ref.getUri() + ") is corrupt: expected " + ref.getSizeBytes()
                + " bytes with sha256 " + ref.getSha256() + ", found " + found + "; it was not used");
        this.sha256 = ref.getSha256();
    }

    /** The sha256 of the ref that failed verification. */
    public String sha256() {
        return sha256;
    }
}
