package dev.loku.ingest;

import dev.loku.events.AuditEvent;
import dev.loku.events.DeadLetter;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.VerificationResult;

/**
 * What the ingest processors forward, one type per destination; the topology routes each kind to its topic.
 * Lives only between processors of one task: never serialized.
 */
sealed interface IngestOutput {

    /** An audit event, keyed by request id, for {@code loku.audit}. */
    record Audit(AuditEvent event) implements IngestOutput {
    }

    /** A dead letter for {@code loku.dead-letters}, keyed by the original key bytes. */
    record DeadLettered(byte[] key, DeadLetter letter) implements IngestOutput {
    }

    /** An accepted request on its way to the batcher, keyed by model id. */
    record Accepted(BatchMember member) implements IngestOutput {
    }

    /** A forget set for {@code loku.forget-sets}, keyed by model id. */
    record ForgetSet(ForgetSetReady event) implements IngestOutput {
    }

    /** A final FAIL verdict for {@code loku.verifications}, keyed by model id: a set ingest closed itself. */
    record Verdict(VerificationResult event) implements IngestOutput {
    }
}
