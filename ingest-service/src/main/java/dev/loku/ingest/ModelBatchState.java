package dev.loku.ingest;

import java.util.UUID;

/**
 * What the batcher knows about one model (store {@link IngestTopology#BATCHES_STORE}, keyed by model id), kept small
 * and of a fixed size, because it is read and written for every request: the waiting requests themselves are in
 * {@link IngestTopology#WAITING_STORE}, the members of the set in flight in {@link IngestTopology#IN_FLIGHT_STORE}.
 *
 * @param currentVersion the version the next set starts from, as far as verdicts tell (a cut also consults
 *                       {@code loku.model-versions}, see {@link ServedVersion})
 * @param waiting        requests waiting for the next set
 * @param waitingSinceMs wall-clock time the oldest of them reached the batcher (0 when none waits)
 * @param nextSeq        sequence number of the next waiting request (its key in the waiting store)
 * @param gate           the set cut and not yet finally verified, or null: the gate is open
 */
public record ModelBatchState(String currentVersion, long waiting, long waitingSinceMs, long nextSeq, Gate gate) {

    /**
     * The set in flight, which shuts the model's gate until its final verdict.
     *
     * @param forgetSetId      its id
     * @param baseModelVersion the version it was cut against
     * @param attempt          its current attempt (1, then one more for each retrying verdict)
     * @param requests         its member count
     * @param cutAtMs          when it was cut (wall clock)
     * @param lastNewsMs       when it was cut or last heard of (a retrying verdict): the stuck-gate clock
     */
    public record Gate(UUID forgetSetId, String baseModelVersion, int attempt, int requests, long cutAtMs,
                       long lastNewsMs) {

        /** The next attempt started (a retrying verdict for this set arrived at {@code nowMs}). */
        Gate retrying(int nextAttempt, long nowMs) {
            return new Gate(forgetSetId, baseModelVersion, Math.max(attempt, nextAttempt), requests, cutAtMs, nowMs);
        }
    }

    /** A model the batcher has not seen yet: at {@code v0}, nothing waiting, gate open. */
    public static ModelBatchState initial() {
        return new ModelBatchState(dev.loku.runtime.artifact.ModelVersionStore.BASE_VERSION, 0, 0, 0, null);
    }

    /** One more request waits, under sequence number {@link #nextSeq}. */
    ModelBatchState withWaiting(long nowMs) {
        return new ModelBatchState(currentVersion, waiting + 1, waiting == 0 ? nowMs : waitingSinceMs, nextSeq + 1, gate);
    }

    /**
     * {@code taken} waiting requests left the queue (cut into a set, or dropped as unusable); the oldest one left
     * arrived at {@code oldestLeftMs} (ignored when none is left).
     */
    ModelBatchState took(long taken, long oldestLeftMs) {
        long left = waiting - taken;
        return new ModelBatchState(currentVersion, left, left == 0 ? 0 : oldestLeftMs, nextSeq, gate);
    }

    /** The gate shuts behind {@code set}, cut against {@code base}. */
    ModelBatchState cut(String base, Gate set) {
        return new ModelBatchState(base, waiting, waitingSinceMs, nextSeq, set);
    }

    /** The same gate with news of the set in flight. */
    ModelBatchState withGate(Gate g) {
        return new ModelBatchState(currentVersion, waiting, waitingSinceMs, nextSeq, g);
    }

    /** The gate opens; {@code newVersion} is the current version from now on. */
    ModelBatchState released(String newVersion) {
        return new ModelBatchState(newVersion, waiting, waitingSinceMs, nextSeq, null);
    }
}
