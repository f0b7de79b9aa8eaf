package dev.loku.ingest;

import dev.loku.runtime.artifact.ForgetSetLedger;
import java.util.List;
import java.util.UUID;

/**
 * The members of a model's set in flight (store {@link IngestTopology#IN_FLIGHT_STORE}, keyed by model id), read
 * only when ingest itself has to close the set (stuck gate, a job record of it dead-lettered), to audit each member
 * with its tenant and content hash; and the verdicts for the model that could not be decoded yet.
 *
 * @param forgetSetId    the set
 * @param members        its members, in request-id order: ids and hashes only
 * @param unreadVerdicts verdicts of the model that could not be decoded (the registry unreachable, say), retried at
 *                       every check: one of them may be the final verdict of this set
 */
public record InFlightSet(UUID forgetSetId, List<ForgetSetLedger.Member> members, List<UnreadVerdict> unreadVerdicts) {

    /** The most undecodable verdicts kept per model; older ones are dropped (logged), the stuck-gate timeout remains. */
    static final int MAX_UNREAD_VERDICTS = 16;

    /**
     * A verdict record as read, kept to be decoded again: verdicts carry ids, versions and metrics, no personal data.
     *
     * @param value     its value bytes
     * @param topic     where it was read
     * @param partition its partition
     * @param offset    its offset
     * @param seenAtMs  when it first failed to decode
     */
    public record UnreadVerdict(byte[] value, String topic, int partition, long offset, long seenAtMs) {
    }

    public InFlightSet {
        members = List.copyOf(members);
        unreadVerdicts = unreadVerdicts == null ? List.of() : List.copyOf(unreadVerdicts);
    }

    /** The same set with these unread verdicts. */
    InFlightSet withUnread(List<UnreadVerdict> unread) {
        return new InFlightSet(forgetSetId, members, unread);
    }
}
