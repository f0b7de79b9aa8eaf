package dev.loku.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.ErasureReason;
import dev.loku.events.ErasureRequest;
import dev.loku.events.QaPair;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ErasureRequestsTest {

    private static ErasureRequest request(List<String> texts, List<QaPair> qa) {
        return ErasureRequest.newBuilder().setRequestId(UUID.randomUUID()).setTenantId("t").setModelId("m")
                .setSubjectId("subject-7").setTexts(texts).setQaPairs(qa).setReason(ErasureReason.GDPR_ART17)
                .setSubmittedAt(Instant.now()).build();
    }

    @Test
    void hashDependsOnContentOnly() {
        String h = ErasureRequests.contentSha256(request(List.of("Ada lives at 12 Example Road"), List.of()));
        assertEquals(64, h.length());
        assertEquals(h, ErasureRequests.contentSha256(request(List.of("Ada lives at 12 Example Road"), List.of())),
                "other ids and times, same content, same hash");
        // the documented encoding, reproduced outside Java:
        // python3 -c "import hashlib,struct; print(hashlib.sha256(b'T'+struct.pack('>i',1)+b'x').hexdigest())"
        assertEquals("9afe1d404c51b8ff3c4c0183db7634ae8c9a9ff58d536821c0390981bb114968",
                ErasureRequests.contentSha256(request(List.of("x"), List.of())));
    }

    @Test
    void differentContentsDoNotCollide() {
        String ab = ErasureRequests.contentSha256(request(List.of("ab"), List.of()));
        String aAndB = ErasureRequests.contentSha256(request(List.of("a", "b"), List.of()));
        String asQa = ErasureRequests.contentSha256(request(List.of(), List.of(new QaPair("a", "b"))));
        String twoTexts = ErasureRequests.contentSha256(request(List.of("a", "b"), List.of()));
        assertNotEquals(ab, aAndB);
        assertNotEquals(aAndB, asQa);
        assertEquals(aAndB, twoTexts);
        assertNotEquals(ErasureRequests.contentSha256(request(List.of("b", "a"), List.of())), aAndB, "order matters");
    }

    @Test
    void describeNeverContainsTheContentOrSubject() {
        ErasureRequest r = request(List.of("Ada lives at 12 Example Road"), List.of(new QaPair("Where?", "12 Example Road")));
        String line = ErasureRequests.describe(r);
        assertFalse(line.contains("Example") || line.contains("Where") || line.contains("subject-7"), line);
        assertTrue(line.contains("requestId=" + r.getRequestId()) && line.contains("texts=1 qaPairs=1 contentSha256="), line);
    }
}
