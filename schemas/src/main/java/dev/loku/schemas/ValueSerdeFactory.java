package dev.loku.schemas;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * Makes the value serde of a catalogue topic. The catalogue lives in this module, which knows no schema registry;
 * the registry-backed implementation (Confluent wire format through Apicurio) is
 * {@code dev.loku.runtime.serde.RegistrySerdes} in pipeline-runtime, and topology unit tests may plug in one that
 * needs no registry.
 */
@FunctionalInterface
public interface ValueSerdeFactory {

    /** A serde for the values of {@code topic}, configured for values (not keys). */
    <V extends SpecificRecord> Serde<V> valueSerde(Topic<?, V> topic);
}
