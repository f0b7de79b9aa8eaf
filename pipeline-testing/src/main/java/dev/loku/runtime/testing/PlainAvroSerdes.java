package dev.loku.runtime.testing;

import dev.loku.schemas.Topic;
import dev.loku.schemas.ValueSerdeFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Value serdes that need no registry: bare Avro binary of the topic's event, without the wire-format header. For
 * topology unit tests in {@code TopologyTestDriver} and other tests that exercise logic, not delivery; anything that
 * checks what goes over the wire uses the registry-backed serdes against the real stack.
 */
public final class PlainAvroSerdes implements ValueSerdeFactory {

    @Override
    public <V extends SpecificRecord> Serde<V> valueSerde(Topic<?, V> topic) {
        Class<V> type = topic.valueType();
        SpecificDatumWriter<V> writer = new SpecificDatumWriter<>(type);
        SpecificDatumReader<V> reader = new SpecificDatumReader<>(type);
        return Serdes.serdeFrom((t, value) -> {
            if (value == null) {
                return null;
            }
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
                writer.write(value, encoder);
                encoder.flush();
                return out.toByteArray();
            } catch (IOException e) {
                throw new SerializationException("cannot encode " + type.getSimpleName(), e);
            }
        }, (t, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                return reader.read(null, DecoderFactory.get().binaryDecoder(bytes, null));
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot decode " + type.getSimpleName() + " from " + bytes.length
                        + " bytes: " + e.getMessage(), e);
            }
        });
    }
}
