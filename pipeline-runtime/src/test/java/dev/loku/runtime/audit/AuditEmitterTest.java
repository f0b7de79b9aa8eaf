package dev.loku.runtime.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.PipelineStage;
import dev.loku.runtime.metrics.ServiceMetrics;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AuditEmitterTest {

    final ServiceMetrics metrics = new ServiceMetrics("ingest");
    final AuditEmitter audit = new AuditEmitter("ingest/host-1", Clock.fixed(Instant.ofEpochMilli(1000), ZoneOffset.UTC), metrics);
    final UUID request = UUID.fromString("2b1c1c3e-0000-4000-8000-000000000001");

    @Test
    void buildsEventsWithDeterministicIdsAndCountsThem() {
        AuditEvent e = audit.event(request, PipelineStage.INGEST, AuditStatus.REJECTED).tenant("acme").model("m")
                .reason(AuditReason.format("content is %d bytes, over the limit of %d", 2000, 1000)).build();
        assertEquals("content is 2000 bytes, over the limit of 1000", e.getReason());
        assertEquals(Instant.ofEpochMilli(1000), e.getTime());
        assertEquals("ingest/host-1", e.getService());
        assertEquals(e.getEventId(), audit.event(request, PipelineStage.INGEST, AuditStatus.REJECTED).build().getEventId(),
                "a replayed step has the same event id");
        assertNotEquals(e.getEventId(), audit.event(request, PipelineStage.INGEST, AuditStatus.ACCEPTED).build().getEventId());
        assertEquals(2, metrics.requests("REJECTED"));
        assertEquals(request.toString(), AuditEmitter.producerRecord(e).key());
    }

    @Test
    void refusesContentWhereOnlyHashesAndSafeArgumentsBelong() {
        var builder = audit.event(request, PipelineStage.INGEST, AuditStatus.ACCEPTED);
        assertThrows(IllegalArgumentException.class, () -> builder.contentSha256("Ada Testperson lives at 12 Example Road"));
        assertThrows(IllegalArgumentException.class, () -> AuditReason.format("text was %s", "Ada Testperson"));
        assertThrows(IllegalArgumentException.class, () -> AuditReason.id("Ada Testperson lives here"));
        assertEquals("model v1-abc failed", AuditReason.format("model %s failed", AuditReason.id("v1-abc")).text());
        assertEquals("failed with IllegalStateException",
                AuditReason.failure(new IllegalStateException("Ada Testperson")).text());
    }
}
