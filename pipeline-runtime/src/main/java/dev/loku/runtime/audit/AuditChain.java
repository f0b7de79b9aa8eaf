package dev.loku.runtime.audit;

import dev.loku.events.AuditEvent;
import dev.loku.runtime.artifact.Sha256;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One writer's integrity chain over the audit events it writes (docs/pipeline.md, "Audit integrity"). Each event
 * gets the chain's id, its position (from 0, no gaps), the previous event's hash and its own hash, a SHA-256 over
 * the previous hash and the event's fields in a canonical form ({@link #hash}). Whoever reads the whole trail can
 * then tell an edited event (its hash no longer matches), a removed one (a gap in the positions) and an inserted
 * or replayed one (a link that does not fit) from the trail the services wrote: {@link AuditChainVerifier}.
 *
 * <pre>{@code
 * AuditChain chain = new AuditChain("fisher-service/pod-1/3f2a...");
 * AuditChain.Position before = chain.position();
 * AuditEvent linked = chain.link(event);        // send `linked`, not `event`
 * chain.reset(before);                          // the transaction that carried it aborted: it never happened
 * }</pre>
 *
 * A chain is not thread-safe; each writer owns one. Where the writer's state survives a restart (an ingest task's
 * state store) the chain resumes from its {@link Position}; a writer without durable state starts a new chain with
 * a new id each time it starts.
 */
public final class AuditChain {

    /** The previous hash of a chain's first event. */
    public static final String GENESIS = "0".repeat(64);

    /** Where a chain stands: the position its next event gets and the hash that event links to. */
    public record Position(long next, String head) {
        public Position {
            if (next < 0) {
                throw new IllegalArgumentException("a chain position is not negative");
            }
            if (!Sha256.isHex(head)) {
                throw new IllegalArgumentException("a chain head is a lower-case hex SHA-256");
            }
        }

        /** The start of a chain. */
        public static Position start() {
            return new Position(0, GENESIS);
        }

        /** {@code next:head}, as a state store keeps it. */
        public String encode() {
            return next + ":" + head;
        }

        /** Reads {@link #encode()}'s form. */
        public static Position decode(String s) {
            int colon = s.indexOf(':');
            if (colon < 1) {
                throw new IllegalArgumentException("not an audit chain position");
            }
            return new Position(Long.parseLong(s.substring(0, colon)), s.substring(colon + 1));
        }
    }

    private final String chainId;
    private Position position;

    /** A new chain, at its start. */
    public AuditChain(String chainId) {
        this(chainId, Position.start());
    }

    /** A chain resumed at {@code position}. */
    public AuditChain(String chainId, Position position) {
        if (chainId == null || chainId.isBlank()) {
            throw new IllegalArgumentException("an audit chain needs an id");
        }
        this.chainId = chainId;
        this.position = Objects.requireNonNull(position, "position");
    }

    public String id() {
        return chainId;
    }

    public Position position() {
        return position;
    }

    /** Moves the chain back (or on) to {@code p}: after an aborted transaction, to where it stood before it. */
    public void reset(Position p) {
        this.position = Objects.requireNonNull(p, "position");
    }

    /** {@code event} as the chain's next event (a copy carrying the chain's fields); the chain moves on by one. */
    public AuditEvent link(AuditEvent event) {
        AuditEvent e = AuditEvent.newBuilder(event)
                .setChainId(chainId)
                .setChainSeq(position.next())
                .setPreviousHash(position.head())
                .setEventHash(null)
                .build();
        String h = hash(e);
        e.setEventHash(h);
        position = new Position(position.next() + 1, h);
        return e;
    }

    /**
     * {@code record} as it is to be sent: an audit event linked as the chain's next event ({@link #link(AuditEvent)}),
     * any other record as it is.
     */
    public TopicRecord<?, ?> link(TopicRecord<?, ?> record) {
        if (record.topic() == Topics.AUDIT && record.value() instanceof AuditEvent e) {
            return new TopicRecord<>(Topics.AUDIT, record.topicName(), (String) record.key(), link(e));
        }
        return record;
    }

    /**
     * The SHA-256, in lower-case hex, of an event's canonical form: every field except {@code eventHash}, in schema
     * order, each written as {@code name=} followed by {@code -} for null or the value's length in UTF-8 bytes, a
     * colon and the value (times as epoch milliseconds), one per line. The length prefix keeps two different events
     * from sharing a form. A field added to the schema later must be added here, or it is not covered.
     */
    public static String hash(AuditEvent e) {
        StringBuilder b = new StringBuilder(512);
        field(b, "eventId", e.getEventId());
        field(b, "requestId", e.getRequestId());
        field(b, "tenantId", e.getTenantId());
        field(b, "modelId", e.getModelId());
        field(b, "stage", e.getStage());
        field(b, "status", e.getStatus());
        field(b, "reason", e.getReason());
        field(b, "service", e.getService());
        field(b, "time", e.getTime() == null ? null : e.getTime().toEpochMilli());
        field(b, "contentSha256", e.getContentSha256());
        field(b, "forgetSetId", e.getForgetSetId());
        field(b, "modelVersion", e.getModelVersion());
        field(b, "attempt", e.getAttempt());
        field(b, "chainId", e.getChainId());
        field(b, "chainSeq", e.getChainSeq());
        field(b, "previousHash", e.getPreviousHash());
        return Sha256.hex(b.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void field(StringBuilder b, String name, Object value) {
        b.append(name).append('=');
        if (value == null) {
            b.append('-');
        } else {
            String s = value.toString();
            b.append(s.getBytes(StandardCharsets.UTF_8).length).append(':').append(s);
        }
        b.append('\n');
    }
}
