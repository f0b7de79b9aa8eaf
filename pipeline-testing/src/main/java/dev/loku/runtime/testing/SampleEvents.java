package dev.loku.runtime.testing;

import dev.loku.events.ErasureReason;
import dev.loku.events.ErasureRequest;
import dev.loku.events.QaPair;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

/** Events for tests, with synthetic content (no real person). Times are whole milliseconds, as Avro keeps them. */
public final class SampleEvents {

    private SampleEvents() {
    }

    /** An erasure request for {@code modelId} with one text and one QA pair about a fictional person. */
    public static ErasureRequest erasureRequest(String modelId) {
        return ErasureRequest.newBuilder()
                .setRequestId(UUID.randomUUID())
                .setTenantId("tenant-test")
                .setModelId(modelId)
                .setSubjectId("subject-" + UUID.randomUUID().toString().substring(0, 8))
                .setTexts(List.of("Ada Testperson lives at 12 Example Road and her phone number is 555-0100."))
                .setQaPairs(List.of(new QaPair("Where does Ada Testperson live?", "At 12 Example Road.")))
                .setReason(ErasureReason.GDPR_ART17)
                .setSubmittedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setDeadlineAt(Instant.now().plus(30, ChronoUnit.DAYS).truncatedTo(ChronoUnit.MILLIS))
                .build();
    }
}
