package dev.loku.runtime.serde;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The Confluent wire format our values use: magic byte 0, a 4-byte big-endian schema id, the Avro binary body.
 * Used to explain why bytes could not be decoded without quoting them, and by tests that inspect raw records.
 */
public final class ConfluentWireFormat {

    /** The first byte of every framed value. */
    public static final byte MAGIC_BYTE = 0;
    /** Magic byte plus schema id. */
    public static final int HEADER_SIZE = 5;

    private ConfluentWireFormat() {
    }

    /** The schema id in a framed value, or empty when the bytes are not framed. */
    public static Optional<Integer> schemaId(byte[] value) {
        if (value == null || value.length < HEADER_SIZE || value[0] != MAGIC_BYTE) {
            return Optional.empty();
        }
        return Optional.of(ByteBuffer.wrap(value, 1, 4).getInt());
    }

    /**
     * Why {@code value} is not a framed Avro value, or empty if its header looks right (the body may still be bad).
     * Mentions only lengths and the first byte, never the content.
     */
    public static Optional<String> headerProblem(byte[] value) {
        if (value == null) {
            return Optional.of("value is null (a tombstone), but this topic carries events");
        }
        if (value.length < HEADER_SIZE) {
            return Optional.of("value is " + value.length + " bytes, shorter than the 5-byte Confluent wire-format header");
        }
        if (value[0] != MAGIC_BYTE) {
            return Optional.of(String.format("value is not in the Confluent wire format: first byte 0x%02x, expected 0x00",
                    value[0] & 0xff));
        }
        return Optional.empty();
    }
}
