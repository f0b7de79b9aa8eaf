package dev.loku.runtime.artifact;

import dev.loku.events.ArtifactRef;
import java.io.IOException;

/** The store has no blob for a ref: never written here, or already purged. Names the ref only. */
public class ArtifactNotFoundException extends IOException {

    private static final long serialVersionUID = 1L;

    public ArtifactNotFoundException(ArtifactRef ref) {
        super("artifact sha256:" + ref.getSha256() + " (" + ref.getUri() + ") is not in the store (never written here, "
                + "or purged)");
    }
}
