package dev.loku.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.ArtifactRef;
import dev.loku.runtime.artifact.ForgetSetLedger.Holding;
import dev.loku.runtime.artifact.ForgetSetLedger.Member;
import dev.loku.runtime.artifact.ForgetSetLedger.Role;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ForgetSetLedgerTest {

    private static final UUID A = UUID.fromString("00000000-0000-0000-0000-00000000000a");
    private static final UUID B = UUID.fromString("00000000-0000-0000-0000-00000000000b");

    @Test
    void aSetIsRecordedHeldAndClosedWithoutPersonalData(@TempDir Path dir) throws Exception {
        DirectoryArtifactStore store = new DirectoryArtifactStore(dir.resolve("store"));
        ForgetSetLedger ledger = ForgetSetLedger.inDirectory(store);
        UUID set = UUID.randomUUID();
        ArtifactRef forgetSet = store.put(lines("{\"text\":\"Ada Testperson lives here\"}\n"));
        ForgetSetLedger.SetRecord record = new ForgetSetLedger.SetRecord(set, "m", "v0", forgetSet,
                List.of(new Member(A, "acme", "a".repeat(64), 1)));
        ledger.recordSet(record);
        ledger.hold(set, new Holding(Role.FORGET_SET, forgetSet, Map.of()));
        ArtifactRef importance = store.put(new byte[] {1, 2, 3});
        ledger.hold(set, new Holding(Role.IMPORTANCE, importance, Map.of("forgetTokens", "12")));
        ledger.hold(set, new Holding(Role.IMPORTANCE, importance, Map.of("forgetTokens", "12"))); // a re-run

        assertEquals(record, ledger.set(set).orElseThrow());
        assertEquals(List.of(Role.FORGET_SET, Role.IMPORTANCE), ledger.holdings(set).stream().map(Holding::role).toList());
        assertEquals("12", ledger.holdings(set, Role.IMPORTANCE).get(0).attribute("forgetTokens").orElseThrow());
        assertFalse(ledger.isClosed(set));
        try (var files = Files.walk(store.root().resolve("forget-sets"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertFalse(Files.readString(f).contains("Testperson"), "the ledger holds no content: " + f);
            }
        }

        UUID other = UUID.randomUUID();
        assertFalse(ledger.heldByAnotherSet(set, importance.getSha256()));
        ledger.hold(other, new Holding(Role.IMPORTANCE, importance, Map.of()));
        assertTrue(ledger.heldByAnotherSet(set, importance.getSha256()), "equal bytes, one blob, two holders");
        assertTrue(ledger.heldByAnotherSet(other, forgetSet.getSha256()), "from other's side, set holds it");

        ledger.close(set, new ForgetSetLedger.Closure("PASS", "v1-00000001", Instant.EPOCH));
        assertFalse(ledger.heldByAnotherSet(other, forgetSet.getSha256()), "a closed set holds nothing");
        ledger.close(set, new ForgetSetLedger.Closure("FAIL", null, Instant.now()));
        assertTrue(ledger.isClosed(set));
        assertEquals(new ForgetSetLedger.Closure("PASS", "v1-00000001", Instant.EPOCH), ledger.closure(set).orElseThrow(),
                "the first closure stays");
        assertTrue(ledger.set(set).isEmpty());
        assertEquals(List.of(), ledger.holdings(set));
        assertFalse(ledger.isClosed(UUID.randomUUID()));
    }

    @Test
    void membersContentArtifactsAreRecoveredFromTheForgetSetLayout() {
        // As ingest writes them: each member's items one JSON line each, members in request-id order.
        byte[] a = lines("{\"text\":\"first\"}\n{\"question\":\"q\",\"answer\":\"a\"}\n");
        byte[] b = lines("{\"text\":\"second\"}\n");
        byte[] set = concat(a, b);
        List<Member> members = List.of(new Member(B, "t", null, 1), new Member(A, "t", null, 2));

        List<ArtifactRef> refs = ForgetSetLedger.memberContentRefs(set, members);
        assertEquals(List.of(Sha256.hex(a), Sha256.hex(b)), refs.stream().map(ArtifactRef::getSha256).toList());
        assertEquals(List.of((long) a.length, (long) b.length), refs.stream().map(ArtifactRef::getSizeBytes).toList());

        assertEquals(List.of(), ForgetSetLedger.memberContentRefs(set, List.of(new Member(A, "t", null, 2))),
                "left-over lines: an unknown layout, nothing guessed");
        assertEquals(List.of(), ForgetSetLedger.memberContentRefs(a, members), "too few lines");
    }

    private static byte[] lines(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[] x, byte[] y) {
        byte[] out = new byte[x.length + y.length];
        System.arraycopy(x, 0, out, 0, x.length);
        System.arraycopy(y, 0, out, x.length, y.length);
        return out;
    }
}
