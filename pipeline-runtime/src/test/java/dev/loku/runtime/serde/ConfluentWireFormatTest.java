package dev.loku.runtime.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfluentWireFormatTest {

    @Test
    void readsTheSchemaIdOfAFramedValue() {
        assertEquals(Optional.of(258), ConfluentWireFormat.schemaId(new byte[] {0, 0, 0, 1, 2, 42}));
        assertEquals(Optional.empty(), ConfluentWireFormat.headerProblem(new byte[] {0, 0, 0, 1, 2, 42}));
    }

    @Test
    void explainsWhatIsWrongWithoutQuotingTheBytes() {
        assertEquals(Optional.empty(), ConfluentWireFormat.schemaId(new byte[] {'{', '"', 'a'}));
        assertEquals(Optional.of("value is not in the Confluent wire format: first byte 0x7b, expected 0x00"),
                ConfluentWireFormat.headerProblem("{\"name\":\"Ada\"}".getBytes()));
        assertEquals(Optional.of("value is 3 bytes, shorter than the 5-byte Confluent wire-format header"),
                ConfluentWireFormat.headerProblem(new byte[] {0, 1, 2}));
        assertEquals(Optional.of("value is null (a tombstone), but this topic carries events"),
                ConfluentWireFormat.headerProblem(null));
    }
}
