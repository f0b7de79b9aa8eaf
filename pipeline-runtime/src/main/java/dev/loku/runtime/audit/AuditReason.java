package dev.loku.runtime.audit;

import dev.loku.runtime.crypto.ContentSeal;
import dev.loku.runtime.kafka.UndecodableRecord;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

/**
 * The {@code reason} of an audit event or dead letter, built so that it cannot carry the data being erased
 * (docs/pipeline.md, privacy rule). Reasons come from four doors only:
 * <ul>
 *   <li>{@link #of(String)}: a fixed sentence written in the code ({@code "no texts and no qaPairs"});</li>
 *   <li>{@link #format(String, Object...)}: a fixed template whose arguments may only be numbers, booleans, enum
 *       constants, UUIDs, durations or {@link #id identifiers}: never a free string, so a request's text cannot
 *       be passed by mistake;</li>
 *   <li>{@link #undecodable(UndecodableRecord)}: the decoder's reason, which names header bytes, lengths and schema
 *       ids, never content;</li>
 *   <li>{@link #failure(Throwable)}: an exception's class name only, because messages of library exceptions may
 *       quote their input.</li>
 * </ul>
 * Every reason is one line of at most {@value #MAX_LENGTH} characters.
 */
public final class AuditReason {

    /** Longest reason kept; longer ones are cut. */
    public static final int MAX_LENGTH = 300;

    private final String text;

    private AuditReason(String text) {
        String oneLine = text.replaceAll("\\s+", " ").trim();
        this.text = oneLine.length() > MAX_LENGTH ? oneLine.substring(0, MAX_LENGTH) + "..." : oneLine;
    }

    /** A fixed sentence from the code. Never pass text taken from a request here. */
    public static AuditReason of(String fixedText) {
        return new AuditReason(Objects.requireNonNull(fixedText, "fixedText"));
    }

    /**
     * A fixed {@link String#format} template with safe arguments.
     *
     * @throws IllegalArgumentException for an argument that is a plain string or another unsafe type
     */
    public static AuditReason format(String template, Object... args) {
        for (Object a : args) {
            if (!(a instanceof Number || a instanceof Boolean || a instanceof Enum<?> || a instanceof UUID
                    || a instanceof Duration || a instanceof Id)) {
                throw new IllegalArgumentException("audit reasons take numbers, booleans, enums, UUIDs, durations or "
                        + "AuditReason.id(...) as arguments, not " + (a == null ? "null" : a.getClass().getSimpleName())
                        + ": free text could carry personal data");
            }
        }
        return new AuditReason(String.format(java.util.Locale.ROOT, template, args));
    }

    /** Why sealed content did not open, naming the request id only. */
    public static AuditReason unsealFailure(ContentSeal.UnsealException e) {
        return e.reason() == ContentSeal.UnsealException.Reason.KEY_MISSING
                ? format("the data key of request %s is not in the key store (destroyed or never stored)",
                        e.requestId())
                : format("the sealed content of request %s does not decrypt under its data key", e.requestId());
    }

    /** Why a record could not be decoded (topic, partition and offset are in the dead letter and the audit ids). */
    public static AuditReason undecodable(UndecodableRecord record) {
        return new AuditReason(record.reason());
    }

    /** A failure, by exception type only. */
    public static AuditReason failure(Throwable error) {
        return new AuditReason("failed with " + error.getClass().getSimpleName());
    }

    /**
     * An identifier (model version, topic name...) usable as a {@link #format} argument: letters, digits, '.', '_',
     * '-' and ':' only, at most 128 characters, so no sentence fits in it.
     */
    public static Id id(String identifier) {
        return new Id(identifier);
    }

    /** The reason's text. */
    public String text() {
        return text;
    }

    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuditReason r && r.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** A checked identifier; see {@link #id(String)}. */
    public record Id(String value) {
        public Id {
            if (value == null || !value.matches("[A-Za-z0-9._:-]{1,128}")) {
                throw new IllegalArgumentException("not an identifier (letters, digits, '.', '_', '-', ':')");
            }
        }

        @Override
        public String toString() {
            return value;
        }
    }
}
