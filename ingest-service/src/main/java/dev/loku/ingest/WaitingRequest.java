package dev.loku.ingest;

/**
 * One accepted request waiting for a forget set (store {@link IngestTopology#WAITING_STORE}, keyed by
 * {@link #key model id and sequence number}, so a model's queue is one ordered range of keys: appending and cutting
 * cost the same whatever its length).
 *
 * @param member      the request (ids, hashes, content ref)
 * @param arrivedAtMs wall-clock time it reached the batcher
 */
public record WaitingRequest(BatchMember member, long arrivedAtMs) {

    /** Model ids are letters, digits, '.', '_' and '-' (the catalogue's rule), so '/' ends the model's prefix. */
    static final char SEPARATOR = '/';

    /** The store key: {@code modelId/seq} with the sequence number zero-padded, so keys sort in arrival order. */
    static String key(String modelId, long seq) {
        String n = Long.toString(seq);
        return modelId + SEPARATOR + "0".repeat(19 - n.length()) + n;
    }

    /** The prefix of every key of {@code modelId}'s queue. */
    static String prefix(String modelId) {
        return modelId + SEPARATOR;
    }
}
