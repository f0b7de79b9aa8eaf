package dev.loku.ingest;

import java.util.UUID;

/**
 * A job record (ForgetSetReady, ImportanceReady or UnlearnCompleted) that the next stage dead-lettered as
 * undecodable, re-keyed by its model id for the batcher (internal topic {@code job-dead-letters-by-model}): where it
 * was, and which forget set it belonged to when its bytes can be decoded now (the registry is back, say). Ids only:
 * the job topics carry no personal data, and neither does this.
 *
 * @param sourceTopic the job topic
 * @param partition   its partition
 * @param offset      its offset
 * @param forgetSetId the set it was for, or null when it cannot be decoded even now (it could be anyone's)
 */
public record JobDeadLetter(String sourceTopic, int partition, long offset, UUID forgetSetId) {
}
