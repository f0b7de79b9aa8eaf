package dev.loku.runtime.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * The registry could not be asked for a schema: no answer (refused, reset, timed out), a server error, or a refusal
 * of this client's credentials. It is not the record's fault, so a consumer must not dead-letter the record for it:
 * {@link dev.loku.runtime.kafka.RecordDecoder} rethrows it, the job runners wait and read the record again, ingest
 * replaces its stream thread after a pause (docs/reliability.md, "registry unreachable"). Like every serde error
 * here, the message names schema ids and HTTP details, never a record's content.
 */
public class RegistryUnavailableException extends SerializationException {

    private static final long serialVersionUID = 1L;

    public RegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The first {@code RegistryUnavailableException} in {@code error}'s cause chain, if any. */
    public static java.util.Optional<RegistryUnavailableException> in(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RegistryUnavailableException r) {
                return java.util.Optional.of(r);
            }
        }
        return java.util.Optional.empty();
    }
}
