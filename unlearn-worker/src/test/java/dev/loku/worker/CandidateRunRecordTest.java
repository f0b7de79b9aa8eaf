package dev.loku.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.AdapterInitialization;
import dev.loku.events.ArtifactRef;
import dev.loku.events.EpochMetrics;
import dev.loku.events.UnlearningObjective;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The run record survives its JSON round trip, numbers a stop-rule epoch did not measure included. */
class CandidateRunRecordTest {

    @Test
    void unmeasuredEpochNumbersRoundTripAsNullInJsonAndNanOrNullInTheRecord() throws Exception {
        EpochMetrics skipped = new EpochMetrics(1, 0.5, 0.9, Double.NaN, null, null, 1.5);
        EpochMetrics measured = new EpochMetrics(2, 0.4, 0.2, 0.1, 0.8, 2.5, 1.7);
        CandidateRunRecord run = new CandidateRunRecord(UUID.randomUUID(), UnlearningObjective.values()[0],
                AdapterInitialization.FILA, Map.of("lr", "0.001"), 42, List.of(skipped, measured), 2, true,
                new ArtifactRef("file:///a", "ab", 3L), Instant.ofEpochMilli(1000));
        String json = new String(run.toJson(), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"forgetEl10\" : null"), "NaN is written as JSON null, not the NaN token: " + json);

        CandidateRunRecord back = CandidateRunRecord.parse(run.toJson());
        assertTrue(Double.isNaN(back.epochs().get(0).getForgetEl10()));
        assertNull(back.epochs().get(0).getRetainMa());
        assertEquals(measured, back.epochs().get(1));
        assertEquals(run.jobId(), back.jobId());
    }
}
