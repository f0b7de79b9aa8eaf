package dev.loku.runtime.job;

import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.PipelineStage;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.kafka.TopicRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Audit events for every member of a {@link ForgetSetJob}, filled the same way by every stage: request, tenant and
 * content hash when known, model, forget set, attempt, the version concerned and the reason.
 */
public final class StageAudit {

    private final AuditEmitter audit;

    public StageAudit(AuditEmitter audit) {
        this.audit = audit;
    }

    /** One event per member request. */
    public List<TopicRecord<?, ?>> forEachRequest(ForgetSetJob job, PipelineStage stage, AuditStatus status,
                                                  String modelVersion, AuditReason reason) {
        List<TopicRecord<?, ?>> out = new ArrayList<>(job.requestIds().size());
        for (AuditEvent e : events(job, stage, status, modelVersion, reason)) {
            out.add(AuditEmitter.topicRecord(e));
        }
        return out;
    }

    /** The events themselves (for a plain producer). */
    public List<AuditEvent> events(ForgetSetJob job, PipelineStage stage, AuditStatus status, String modelVersion,
                                   AuditReason reason) {
        List<AuditEvent> out = new ArrayList<>(job.requestIds().size());
        for (UUID id : job.requestIds()) {
            out.add(audit.event(id, stage, status).tenant(job.tenantOf(id)).model(job.modelId())
                    .contentSha256(job.contentSha256Of(id)).forgetSet(job.forgetSetId()).attempt(job.attempt())
                    .modelVersion(modelVersion).reason(reason).build());
        }
        return out;
    }
}
