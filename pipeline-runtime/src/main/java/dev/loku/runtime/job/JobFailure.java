package dev.loku.runtime.job;

import dev.loku.runtime.audit.AuditReason;
import java.util.Objects;

/**
 * A job that cannot finish, for a reason it can state without personal data ("the forget-set artifact is corrupt",
 * "model version v3-1a2b3c4d is not published"). The reason goes into the audit trail, the dead letter and the
 * verdict as it is; the cause stays in the process (its message may quote data, so it is never logged or published:
 * only its class name is). Any other exception a job throws is reported by class name only.
 */
public final class JobFailure extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient AuditReason reason;

    private JobFailure(AuditReason reason, Throwable cause) {
        super(reason.text(), cause);
        this.reason = reason;
    }

    /** Fails the job for {@code reason}; {@code cause} may be null. */
    public static JobFailure because(AuditReason reason, Throwable cause) {
        return new JobFailure(Objects.requireNonNull(reason, "reason"), cause);
    }

    public AuditReason reason() {
        return reason;
    }

    /**
     * An identifier taken from an event (a model version, a model id) as a reason argument; {@code invalid} when
     * it is not one, since event fields are not trusted to be free of text.
     */
    public static AuditReason.Id idOf(String value) {
        return value != null && value.matches("[A-Za-z0-9._:-]{1,128}") ? AuditReason.id(value) : AuditReason.id("invalid");
    }

    /** The content-free reason for any job exception: a JobFailure's own, else the exception's class name. */
    public static AuditReason reasonOf(Throwable error) {
        return error instanceof JobFailure f ? f.reason() : AuditReason.failure(error);
    }
}
