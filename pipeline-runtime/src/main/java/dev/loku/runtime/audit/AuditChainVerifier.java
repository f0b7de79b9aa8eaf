package dev.loku.runtime.audit;

import dev.loku.events.AuditEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Checks an audit trail's integrity chains ({@link AuditChain}). Feed it every event of the trail, in any order
 * (a chain's events spread over the topic's partitions); {@link #report()} walks each chain by position and names
 * what does not fit:
 * <ul>
 *   <li>{@link Kind#UNCHAINED}: an event with no chain fields, which no service of this version writes;</li>
 *   <li>{@link Kind#EDITED}: an event whose fields no longer give its hash;</li>
 *   <li>{@link Kind#MISSING}: positions absent from a chain (an event removed), including a chain whose first
 *       position is not 0;</li>
 *   <li>{@link Kind#BROKEN_LINK}: an event whose previous hash is not its predecessor's hash (an event inserted,
 *       or one built elsewhere);</li>
 *   <li>{@link Kind#DUPLICATE}: a second copy of an event at a position (a replayed record), or a different event
 *       claiming a position already taken.</li>
 * </ul>
 * What it cannot see from the trail alone: events removed from the END of a chain, and a whole chain removed or
 * made up by someone who can write the topic. The first needs the chain heads kept elsewhere; the second is what
 * the topic's ACLs are for (one writer principal per service, docs/operations.md).
 */
public final class AuditChainVerifier {

    /** What is wrong with an event or a stretch of a chain. */
    public enum Kind { UNCHAINED, EDITED, MISSING, BROKEN_LINK, DUPLICATE }

    /**
     * One finding. {@code seq} and {@code eventId} are null where they do not apply (a MISSING range names its
     * first absent position in {@code seq}); {@code detail} says it in words, never quoting anything but ids,
     * positions and hashes.
     */
    public record Problem(Kind kind, String chainId, Long seq, UUID eventId, String detail) {
    }

    /**
     * The verdict: how many events and chains were read, and every problem found.
     *
     * @param chainsByWriter for each chain, its length (positions 0 to n-1 seen)
     */
    public record Report(long events, Map<String, Long> chainsByWriter, List<Problem> problems) {
        public boolean intact() {
            return problems.isEmpty();
        }
    }

    private final Map<String, List<AuditEvent>> chains = new TreeMap<>();
    private final List<Problem> problems = new ArrayList<>();
    private long events;

    /** Adds one event of the trail. */
    public void add(AuditEvent e) {
        events++;
        if (e.getChainId() == null || e.getChainSeq() == null || e.getPreviousHash() == null
                || e.getEventHash() == null) {
            problems.add(new Problem(Kind.UNCHAINED, e.getChainId(), e.getChainSeq(), e.getEventId(),
                    "the event carries no complete chain fields"));
            return;
        }
        chains.computeIfAbsent(e.getChainId(), k -> new ArrayList<>()).add(e);
    }

    /** Adds every event of {@code trail}. */
    public AuditChainVerifier addAll(Iterable<AuditEvent> trail) {
        trail.forEach(this::add);
        return this;
    }

    /** Walks every chain; may be called again after more events were added. */
    public Report report() {
        List<Problem> found = new ArrayList<>(problems);
        Map<String, Long> lengths = new TreeMap<>();
        for (Map.Entry<String, List<AuditEvent>> c : chains.entrySet()) {
            lengths.put(c.getKey(), walk(c.getKey(), c.getValue(), found));
        }
        return new Report(events, lengths, List.copyOf(found));
    }

    /** Checks one chain's events in position order; returns the number of positions the chain spans. */
    private static long walk(String chainId, List<AuditEvent> chain, List<Problem> found) {
        List<AuditEvent> sorted = new ArrayList<>(chain);
        sorted.sort(Comparator.comparingLong(AuditEvent::getChainSeq));
        long expected = 0;
        String head = AuditChain.GENESIS;
        AuditEvent previous = null;
        for (AuditEvent e : sorted) {
            long seq = e.getChainSeq();
            if (!AuditChain.hash(e).equals(e.getEventHash())) {
                found.add(new Problem(Kind.EDITED, chainId, seq, e.getEventId(),
                        "the event's fields do not give its hash " + e.getEventHash()));
            }
            if (previous != null && seq == previous.getChainSeq()) {
                boolean copy = e.getEventHash().equals(previous.getEventHash());
                found.add(new Problem(Kind.DUPLICATE, chainId, seq, e.getEventId(), copy
                        ? "a second copy of the event at this position"
                        : "a different event claims a position already taken by " + previous.getEventId()));
                continue;
            }
            if (seq > expected) {
                found.add(new Problem(Kind.MISSING, chainId, expected, null, seq - expected == 1
                        ? "position " + expected + " is missing"
                        : "positions " + expected + " to " + (seq - 1) + " are missing"));
            } else if (!e.getPreviousHash().equals(head)) {
                found.add(new Problem(Kind.BROKEN_LINK, chainId, seq, e.getEventId(),
                        "the event links to " + e.getPreviousHash() + ", its predecessor's hash is " + head));
            }
            head = e.getEventHash();
            expected = seq + 1;
            previous = e;
        }
        return expected;
    }
}
