package dev.loku.runtime;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The deterministic identities of docs/pipeline.md ("Identities"), in one place: re-doing a step after a crash
 * gives the same ids, so downstream recognises the repeat. All are name-based UUIDs (version 3,
 * {@link UUID#nameUUIDFromBytes}) of a UTF-8 text spelled out below; changing a spelling changes every id.
 */
public final class PipelineIds {

    private PipelineIds() {
    }

    /** A forget set: the member request ids, lower-case canonical form, sorted, joined by '\n'. */
    public static UUID forgetSetId(Collection<UUID> memberRequestIds) {
        if (memberRequestIds.isEmpty()) {
            throw new IllegalArgumentException("a forget set has at least one member");
        }
        String name = memberRequestIds.stream().map(UUID::toString).sorted().distinct().collect(Collectors.joining("\n"));
        return nameUuid("forget-set\n" + name);
    }

    /** A job: {@code forgetSetId/attempt/baseModelVersion}. */
    public static UUID jobId(UUID forgetSetId, int attempt, String baseModelVersion) {
        Objects.requireNonNull(baseModelVersion, "baseModelVersion");
        return nameUuid("job\n" + forgetSetId + "/" + attempt + "/" + baseModelVersion);
    }

    /**
     * The candidate version a job produces from {@code vN}: {@code v{N+1}-{first 8 hex of jobId}}. A base version
     * that is itself a candidate name ({@code v3-1a2b3c4d}) counts as its number ({@code 3}).
     */
    public static String candidateVersion(String baseModelVersion, UUID jobId) {
        return "v" + (versionNumber(baseModelVersion) + 1) + "-" + jobId.toString().replace("-", "").substring(0, 8);
    }

    /**
     * The number N of a version {@code vN} or {@code vN-xxxxxxxx}: how many forget sets the model went through to
     * reach it, so of two versions of a model the one with the larger number is the later.
     *
     * @throws IllegalArgumentException for any other name
     */
    public static long versionNumber(String modelVersion) {
        if (modelVersion == null || !modelVersion.matches("v\\d{1,18}(-[0-9a-f]{8})?")) {
            throw new IllegalArgumentException("not a model version of the form vN or vN-xxxxxxxx: " + modelVersion);
        }
        int dash = modelVersion.indexOf('-');
        return Long.parseLong(modelVersion.substring(1, dash < 0 ? modelVersion.length() : dash));
    }

    /**
     * The request id of a record that could not be decoded: its key when the key is a UUID (the producer's request
     * id), else a name-based UUID of {@code topic/partition/offset}, so every dead-lettered record still has one
     * audit trail and the same record always gets the same id.
     */
    public static UUID undecodableRequestId(byte[] key, String topic, int partition, long offset) {
        if (key != null && key.length == 36) {
            try {
                UUID parsed = UUID.fromString(new String(key, StandardCharsets.US_ASCII));
                if (parsed.toString().equalsIgnoreCase(new String(key, StandardCharsets.US_ASCII))) {
                    return parsed;
                }
            } catch (IllegalArgumentException e) {
                // not a UUID: fall through to the location-based id
            }
        }
        return nameUuid("record\n" + topic + "/" + partition + "/" + offset);
    }

    /** An audit event: request, stage, status, attempt and forget set, so a replayed step has the same id. */
    public static UUID auditEventId(UUID requestId, String stage, String status, Integer attempt, UUID forgetSetId) {
        return nameUuid("audit\n" + requestId + "/" + stage + "/" + status + "/" + attempt + "/" + forgetSetId);
    }

    private static UUID nameUuid(String name) {
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8));
    }
}
