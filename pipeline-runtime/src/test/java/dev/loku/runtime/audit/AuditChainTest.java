package dev.loku.runtime.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.PipelineStage;
import dev.loku.runtime.artifact.Sha256;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AuditChainTest {

    private final AuditEmitter audit = new AuditEmitter("fisher-service/pod-1",
            Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC), null);

    private AuditEvent event(int i) {
        return audit.event(new UUID(7, i), PipelineStage.IMPORTANCE, AuditStatus.IMPORTANCE_READY)
                .tenant("tenant-a").model("stories260k").attempt(1).forgetSet(new UUID(9, i)).build();
    }

    private List<AuditEvent> chain(AuditChain chain, int n) {
        List<AuditEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(chain.link(event(i)));
        }
        return out;
    }

    private static AuditChainVerifier.Report verify(List<AuditEvent> trail) {
        return new AuditChainVerifier().addAll(trail).report();
    }

    private static List<AuditChainVerifier.Kind> kinds(AuditChainVerifier.Report r) {
        return r.problems().stream().map(AuditChainVerifier.Problem::kind).toList();
    }

    @Test
    void theHashIsSha256OfTheCanonicalFormWrittenOutByHand() {
        AuditEvent e = new AuditChain("c").link(event(1));
        String form = "eventId=36:" + e.getEventId() + "\n"
                + "requestId=36:" + e.getRequestId() + "\n"
                + "tenantId=8:tenant-a\n"
                + "modelId=11:stories260k\n"
                + "stage=10:IMPORTANCE\n"
                + "status=16:IMPORTANCE_READY\n"
                + "reason=-\n"
                + "service=20:fisher-service/pod-1\n"
                + "time=13:1700000000000\n"
                + "contentSha256=-\n"
                + "forgetSetId=36:" + e.getForgetSetId() + "\n"
                + "modelVersion=-\n"
                + "attempt=1:1\n"
                + "chainId=1:c\n"
                + "chainSeq=1:0\n"
                + "previousHash=64:" + AuditChain.GENESIS + "\n";
        assertEquals(Sha256.hex(form.getBytes(StandardCharsets.UTF_8)), e.getEventHash());
        assertEquals(0L, e.getChainSeq());
        assertEquals(AuditChain.GENESIS, e.getPreviousHash());
    }

    @Test
    void anUntouchedTrailIsIntactInAnyReadingOrder() {
        List<AuditEvent> trail = new ArrayList<>(chain(new AuditChain("ingest/intake/0_0"), 20));
        trail.addAll(chain(new AuditChain("ingest/batcher/1_0"), 7));
        Collections.shuffle(trail, new Random(3)); // spread over partitions: read order is not chain order
        AuditChainVerifier.Report r = verify(trail);
        assertTrue(r.intact(), r.problems().toString());
        assertEquals(27, r.events());
        assertEquals(20L, r.chainsByWriter().get("ingest/intake/0_0"));
        assertEquals(7L, r.chainsByWriter().get("ingest/batcher/1_0"));
    }

    @Test
    void anEditedFieldIsFound() {
        List<AuditEvent> trail = chain(new AuditChain("c"), 5);
        AuditEvent edited = AuditEvent.newBuilder(trail.get(2)).setStatus(AuditStatus.VERIFIED).build();
        trail.set(2, edited);
        AuditChainVerifier.Report r = verify(trail);
        assertEquals(List.of(AuditChainVerifier.Kind.EDITED), kinds(r));
        assertEquals(2L, r.problems().get(0).seq());
        assertEquals(edited.getEventId(), r.problems().get(0).eventId());
    }

    @Test
    void aRemovedEventIsAGap() {
        List<AuditEvent> trail = chain(new AuditChain("c"), 6);
        trail.remove(3);
        trail.remove(3);
        AuditChainVerifier.Report r = verify(trail);
        assertEquals(List.of(AuditChainVerifier.Kind.MISSING), kinds(r));
        assertEquals(3L, r.problems().get(0).seq());
        assertEquals("positions 3 to 4 are missing", r.problems().get(0).detail());
        List<AuditEvent> headless = chain(new AuditChain("d"), 3).subList(1, 3);
        assertEquals(List.of(AuditChainVerifier.Kind.MISSING), kinds(verify(headless)));
    }

    @Test
    void anInsertedEventRehashedToLookRightBreaksTheLink() {
        List<AuditEvent> trail = chain(new AuditChain("c"), 4);
        // A forger who knows the chain format re-links a made-up event at position 2 with a valid hash of its own.
        AuditChain forger = new AuditChain("c", new AuditChain.Position(2, Sha256.hex(new byte[] {1})));
        trail.set(2, forger.link(AuditEvent.newBuilder(trail.get(2)).setStatus(AuditStatus.VERIFIED).build()));
        AuditChainVerifier.Report r = verify(trail);
        assertEquals(List.of(AuditChainVerifier.Kind.BROKEN_LINK, AuditChainVerifier.Kind.BROKEN_LINK), kinds(r));
        assertEquals(List.of(2L, 3L), r.problems().stream().map(AuditChainVerifier.Problem::seq).toList());
    }

    @Test
    void aReplayedCopyAndAnUnchainedEventAreFound() {
        List<AuditEvent> trail = chain(new AuditChain("c"), 3);
        trail.add(AuditEvent.newBuilder(trail.get(1)).build());
        trail.add(event(99));
        AuditChainVerifier.Report r = verify(trail);
        assertEquals(List.of(AuditChainVerifier.Kind.UNCHAINED, AuditChainVerifier.Kind.DUPLICATE), kinds(r));
        assertEquals("a second copy of the event at this position", r.problems().get(1).detail());
    }

    @Test
    void anAbortedAttemptIsUndoneSoTheCommittedTrailHasNoHole() {
        AuditChainStamp stamp = new AuditChainStamp(new AuditChain("fisher-service/pod-1/fisher/x"));
        List<AuditEvent> published = new ArrayList<>();
        List<TopicRecord<?, ?>> outputs = List.of(TopicRecord.of(Topics.AUDIT, "k", event(1)),
                TopicRecord.of(Topics.AUDIT, "k", event(2)));
        List<TopicRecord<?, ?>> firstTry = stamp.stamp(outputs);
        stamp.aborted(); // the transaction never committed: readers never see firstTry
        List<TopicRecord<?, ?>> secondTry = stamp.stamp(outputs);
        stamp.committed();
        secondTry.forEach(r -> published.add((AuditEvent) r.value()));
        stamp.stamp(List.of(TopicRecord.of(Topics.AUDIT, "k", event(3)))).forEach(r -> published.add((AuditEvent) r.value()));
        stamp.committed();
        assertEquals(firstTry.get(0).value(), secondTry.get(0).value(), "the retry re-links from the same position");
        assertEquals(List.of(0L, 1L, 2L), published.stream().map(AuditEvent::getChainSeq).toList());
        assertTrue(verify(published).intact());
        // Without the undo the committed chain would start at position 2: the verifier would call 0-1 missing.
        AuditChainStamp careless = new AuditChainStamp(new AuditChain("y"));
        careless.stamp(outputs);
        List<AuditEvent> after = careless.stamp(outputs).stream().map(r -> (AuditEvent) r.value()).toList();
        assertEquals(List.of(AuditChainVerifier.Kind.MISSING), kinds(verify(after)));
    }

    @Test
    void aStampLeavesOtherTopicsAndTheOriginalEventAlone() {
        AuditEvent original = event(5);
        TopicRecord<?, ?> other = TopicRecord.of(Topics.AUDIT, "k", original).to("test-audit");
        List<TopicRecord<?, ?>> out = new AuditChainStamp(new AuditChain("z")).stamp(List.of(other));
        assertEquals("test-audit", out.get(0).topicName());
        assertEquals(null, original.getEventHash());
        assertNotEquals(null, ((AuditEvent) out.get(0).value()).getEventHash());
    }

    @Test
    void aPositionRoundTripsThroughItsStoredForm() {
        AuditChain c = new AuditChain("c");
        c.link(event(1));
        AuditChain.Position p = AuditChain.Position.decode(c.position().encode());
        assertEquals(c.position(), p);
        AuditChain resumed = new AuditChain("c", p);
        List<AuditEvent> trail = new ArrayList<>();
        AuditChain first = new AuditChain("c");
        trail.add(first.link(event(1)));
        trail.add(resumed.link(event(2)));
        assertTrue(verify(trail).intact());
    }
}
