package dev.loku.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PipelineIdsTest {

    final UUID a = UUID.fromString("00000000-0000-4000-8000-00000000000a");
    final UUID b = UUID.fromString("00000000-0000-4000-8000-00000000000b");

    @Test
    void forgetSetIdsDependOnTheMembersOnly() {
        assertEquals(PipelineIds.forgetSetId(List.of(a, b)), PipelineIds.forgetSetId(List.of(b, a)));
        assertNotEquals(PipelineIds.forgetSetId(List.of(a)), PipelineIds.forgetSetId(List.of(a, b)));
        assertEquals(3, PipelineIds.forgetSetId(List.of(a)).version(), "name-based (v3)");
        assertThrows(IllegalArgumentException.class, () -> PipelineIds.forgetSetId(List.of()));
    }

    @Test
    void candidateVersionsCountUpFromTheBase() {
        UUID job = PipelineIds.jobId(a, 1, "v0");
        assertEquals(job, PipelineIds.jobId(a, 1, "v0"));
        assertNotEquals(job, PipelineIds.jobId(a, 2, "v0"));
        String v1 = PipelineIds.candidateVersion("v0", job);
        assertEquals("v1-" + job.toString().substring(0, 8), v1);
        assertEquals("v2-", PipelineIds.candidateVersion(v1, job).substring(0, 3));
        assertThrows(IllegalArgumentException.class, () -> PipelineIds.candidateVersion("latest", job));
    }

    @Test
    void undecodableRecordsUseTheirUuidKeyOrTheirLocation() {
        assertEquals(a, PipelineIds.undecodableRequestId(a.toString().getBytes(StandardCharsets.US_ASCII), "t", 0, 5));
        UUID located = PipelineIds.undecodableRequestId("junk".getBytes(StandardCharsets.US_ASCII), "t", 0, 5);
        assertEquals(located, PipelineIds.undecodableRequestId(null, "t", 0, 5), "the key does not matter when not a UUID");
        assertNotEquals(located, PipelineIds.undecodableRequestId(null, "t", 0, 6));
    }
}
