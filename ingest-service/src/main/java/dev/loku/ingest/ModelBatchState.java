package dev.loku.ingest;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What the batcher knows about one model (state store value, keyed by model id): its current version, the accepted
 * requests waiting for the next forget set, and the set in flight, if any.
 *
 * @param currentVersion  the version the next set starts from: {@code v0} until a PASS advances it
 * @param pending         requests waiting, in arrival order
 * @param pendingSinceMs  wall-clock time the oldest waiting request reached the batcher (0 when none waits)
 * @param inFlight        the set cut and not yet finally verified, or null: the gate
 */
public record ModelBatchState(String currentVersion, List<BatchMember> pending, long pendingSinceMs, InFlight inFlight) {

    /**
     * A forget set between its cut and its final verdict.
     *
     * @param forgetSetId      its id
     * @param requestIds       its members
     * @param baseModelVersion the version it was cut against
     * @param cutAtMs          when it was cut (wall clock)
     */
    public record InFlight(UUID forgetSetId, List<UUID> requestIds, String baseModelVersion, long cutAtMs) {
    }

    public ModelBatchState {
        pending = pending == null ? List.of() : List.copyOf(pending);
    }

    /** A model the batcher has not seen yet: at {@code v0}, nothing waiting, nothing in flight. */
    public static ModelBatchState initial() {
        return new ModelBatchState("v0", List.of(), 0, null);
    }

    /** Whether {@code requestId} waits here or is in the set in flight. */
    public boolean holds(UUID requestId) {
        return pending.stream().anyMatch(m -> m.requestId().equals(requestId))
                || (inFlight != null && inFlight.requestIds().contains(requestId));
    }

    public ModelBatchState withPending(BatchMember member, long nowMs) {
        List<BatchMember> more = new ArrayList<>(pending);
        more.add(member);
        return new ModelBatchState(currentVersion, more, pending.isEmpty() ? nowMs : pendingSinceMs, inFlight);
    }

    /** Every waiting request moves into the new set in flight. */
    public ModelBatchState cut(InFlight set) {
        return new ModelBatchState(currentVersion, List.of(), 0, set);
    }

    /** The gate opens; {@code newVersion} is the current version from now on. */
    public ModelBatchState released(String newVersion) {
        return new ModelBatchState(newVersion, pending, pendingSinceMs, null);
    }
}
