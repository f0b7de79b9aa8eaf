package dev.loku.eval;

import dev.loku.events.VerificationResult;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.kafka.TopicCatchUp;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Which jobs already have a verdict, so a repeated UnlearnCompleted (a re-delivered or replayed candidate) is
 * ignored instead of verified, and above all not promoted, a second time. The durable source is
 * {@code loku.verifications} itself: every verdict names forget set, attempt and base version, hence its job id
 * ({@link PipelineIds#jobId}). The view is rebuilt from the beginning of the topic on the first job after start-up
 * and caught up before every job (read_committed), so it includes the verdicts of other instances and of this one's
 * earlier incarnations.
 *
 * <p>One gap remains: a transaction's records become readable a moment after its commit returns, so the verdict of
 * the job just committed may not be readable yet when the next input is checked. Verdicts this instance produced are
 * therefore also remembered with the input's position: the same job id at a <em>later</em> position is a repeat
 * (the earlier input's transaction committed, or the runner would have rewound to it); at the <em>same</em> position
 * it is the runner re-running an input whose commit failed, and must be verified again.
 *
 * <p>Used from the job thread only.
 */
final class VerifiedJobs implements AutoCloseable {

    private final TopicCatchUp<String, VerificationResult> topic;
    private final Duration timeout;
    private final Set<UUID> verified = new HashSet<>();
    private final Map<UUID, String> decidedHere = new HashMap<>();

    private VerifiedJobs(TopicCatchUp<String, VerificationResult> topic, Duration timeout) {
        this.topic = topic;
        this.timeout = timeout;
    }

    /** Backed by {@code loku.verifications}. */
    static VerifiedJobs fromTopic(TopicCatchUp<String, VerificationResult> topic, Duration timeout) {
        return new VerifiedJobs(topic, timeout);
    }

    /** Without a topic: only what is {@link #record recorded} (job logic tests). */
    static VerifiedJobs inMemory() {
        return new VerifiedJobs(null, Duration.ZERO);
    }

    /** Reads the verdicts committed since the last call. */
    void refresh() {
        if (topic != null) {
            topic.catchUp(r -> record(r.value()), timeout);
        }
    }

    /** Adds a verdict to the view. */
    void record(VerificationResult v) {
        verified.add(PipelineIds.jobId(v.getForgetSetId(), v.getAttempt(), v.getBaseModelVersion()));
    }

    /** Remembers that this instance decided {@code jobId} for the input at {@code position}. */
    void decidedHere(UUID jobId, String position) {
        decidedHere.put(jobId, position);
    }

    /** True when {@code jobId} already has a verdict and the input at {@code position} is not a re-run of ours. */
    boolean isRepeat(UUID jobId, String position) {
        String mine = decidedHere.get(jobId);
        if (mine != null) {
            return !mine.equals(position);
        }
        return verified.contains(jobId);
    }

    @Override
    public void close() {
        if (topic != null) {
            try {
                topic.close();
            } catch (RuntimeException e) {
                // a job interrupted by stop() may still hold the consumer; the process is ending anyway
            }
        }
    }
}
