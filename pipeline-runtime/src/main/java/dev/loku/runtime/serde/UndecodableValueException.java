package dev.loku.runtime.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A value could not be decoded, with a message that says why in terms of the wire format and the registry (header,
 * schema id, Avro body) and quotes no data. Thrown by {@link RegistrySerdes}' deserializers in place of the
 * registry client's own exceptions, whose messages are often just a class name.
 */
public class UndecodableValueException extends SerializationException {

    private static final long serialVersionUID = 1L;

    public UndecodableValueException(String message, Throwable cause) {
        super(message, cause);
    }
}
