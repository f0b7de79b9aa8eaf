package dev.loku.runtime.audit;

import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.PipelineStage;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.Sha256;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.schemas.Topics;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Builds the audit trail's events ({@code loku.audit}, key = request id), the same way in every service:
 *
 * <pre>{@code
 * AuditEvent e = audit.event(requestId, PipelineStage.INGEST, AuditStatus.REJECTED)
 *         .tenant(tenantId).model(modelId)
 *         .reason(AuditReason.format("content is %d bytes, over the limit of %d", size, limit))
 *         .build();
 * producer.send(AuditEmitter.producerRecord(e));           // a plain (transactional) producer
 * context.forward(AuditEmitter.streamsRecord(e, ts));      // a Kafka Streams processor
 * outputs.add(AuditEmitter.topicRecord(e));                // a TransactionalJobRunner job
 * }</pre>
 *
 * What it guarantees: the event id is deterministic (request, stage, status, attempt, forget set; see
 * {@link PipelineIds#auditEventId}), so a replayed step is a recognisable duplicate; {@code contentSha256} must
 * be a SHA-256 in hex (a hash, never content); the reason is an {@link AuditReason}, which cannot hold free text;
 * and each built event is counted in {@code loku_requests_total{status}}.
 */
public final class AuditEmitter {

    private final String service;
    private final Clock clock;
    private final ServiceMetrics metrics;

    /**
     * @param service the emitting service instance, e.g. {@code ingest-service/host-1}
     * @param metrics counts events by status; may be null
     */
    public AuditEmitter(String service, Clock clock, ServiceMetrics metrics) {
        this.service = Objects.requireNonNull(service, "service");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.metrics = metrics;
    }

    /** Starts an event about {@code requestId}. */
    public Builder event(UUID requestId, PipelineStage stage, AuditStatus status) {
        return new Builder(requestId, stage, status);
    }

    /** The record for a plain producer. */
    public static ProducerRecord<String, AuditEvent> producerRecord(AuditEvent event) {
        return new ProducerRecord<>(Topics.AUDIT.name(), event.getRequestId().toString(), event);
    }

    /** Sends through a producer of the audit topic's types (inside its transaction, if it has one open). */
    public static void send(Producer<String, AuditEvent> producer, AuditEvent event) {
        producer.send(producerRecord(event));
    }

    /** The record for a Kafka Streams processor to forward. */
    public static Record<String, AuditEvent> streamsRecord(AuditEvent event, long timestamp) {
        return new Record<>(event.getRequestId().toString(), event, timestamp);
    }

    /** The record for a {@link dev.loku.runtime.kafka.TransactionalJobRunner} job's outputs. */
    public static TopicRecord<String, AuditEvent> topicRecord(AuditEvent event) {
        return TopicRecord.of(Topics.AUDIT, event.getRequestId().toString(), event);
    }

    /** One event under construction. */
    public final class Builder {
        private final AuditEvent.Builder b = AuditEvent.newBuilder();
        private final UUID requestId;
        private final PipelineStage stage;
        private final AuditStatus status;
        private Integer attempt;
        private UUID forgetSetId;
        private Instant at;

        private Builder(UUID requestId, PipelineStage stage, AuditStatus status) {
            this.requestId = Objects.requireNonNull(requestId, "requestId");
            this.stage = Objects.requireNonNull(stage, "stage");
            this.status = Objects.requireNonNull(status, "status");
        }

        public Builder tenant(String tenantId) {
            b.setTenantId(tenantId);
            return this;
        }

        public Builder model(String modelId) {
            b.setModelId(modelId);
            return this;
        }

        public Builder reason(AuditReason reason) {
            b.setReason(reason == null ? null : reason.text());
            return this;
        }

        /** The request content's hash ({@code ErasureRequests.contentSha256}); refuses anything but 64 hex digits. */
        public Builder contentSha256(String sha256) {
            if (sha256 != null && !Sha256.isHex(sha256)) {
                throw new IllegalArgumentException("contentSha256 must be a lower-case hex SHA-256, never content");
            }
            b.setContentSha256(sha256);
            return this;
        }

        public Builder forgetSet(UUID forgetSetId) {
            this.forgetSetId = forgetSetId;
            return this;
        }

        public Builder modelVersion(String modelVersion) {
            b.setModelVersion(modelVersion);
            return this;
        }

        public Builder attempt(int attempt) {
            this.attempt = attempt;
            return this;
        }

        /** When the step happened; defaults to the emitter's clock. */
        public Builder at(Instant at) {
            this.at = at;
            return this;
        }

        /** The event; counted in the service's metrics. */
        public AuditEvent build() {
            AuditEvent e = b.setEventId(PipelineIds.auditEventId(requestId, stage.name(), status.name(), attempt, forgetSetId))
                    .setRequestId(requestId)
                    .setStage(stage)
                    .setStatus(status)
                    .setService(service)
                    .setTime(at != null ? at : clock.instant())
                    .setForgetSetId(forgetSetId)
                    .setAttempt(attempt)
                    .build();
            if (metrics != null) {
                metrics.request(status.name());
            }
            return e;
        }
    }
}
