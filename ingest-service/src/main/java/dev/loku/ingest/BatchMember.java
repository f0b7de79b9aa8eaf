package dev.loku.ingest;

import dev.loku.events.ArtifactRef;
import dev.loku.events.ForgetSetMember;
import java.util.UUID;

/**
 * An accepted request on its way to the batcher (repartition topic, batch store): ids, the content's hash and the
 * reference to its content artifact. Never the content itself, which would otherwise be copied into internal topics.
 *
 * @param requestId     the request
 * @param tenantId      its tenant
 * @param modelId       its model (the key after re-keying)
 * @param contentSha256 {@code ErasureRequests.contentSha256}
 * @param itemCount     texts plus QA pairs
 * @param contentUri    the content artifact's URI
 * @param contentArtifactSha256 the content artifact's sha256 (of its JSONL bytes)
 * @param contentBytes  the content artifact's size
 */
public record BatchMember(UUID requestId, String tenantId, String modelId, String contentSha256, int itemCount,
                          String contentUri, String contentArtifactSha256, long contentBytes) {

    /** The content artifact's ref. */
    public ArtifactRef contentRef() {
        return new ArtifactRef(contentUri, contentArtifactSha256, contentBytes);
    }

    /** The member as listed in ForgetSetReady. */
    public ForgetSetMember toForgetSetMember() {
        return new ForgetSetMember(requestId, tenantId, contentSha256, itemCount);
    }
}
