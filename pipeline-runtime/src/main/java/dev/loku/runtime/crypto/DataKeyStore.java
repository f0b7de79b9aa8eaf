package dev.loku.runtime.crypto;

import dev.loku.runtime.config.KeyStoreConfig;

import java.io.IOException;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.SecretKey;

/**
 * Where the per-request data keys of crypto-shredding live: one random 256-bit AES key per erasure request, keyed by
 * the request id. The services of one pipeline share one store; destroying a request's key makes every copy of its
 * sealed content (the Kafka log, backups, a stray artifact) unreadable. Implementations must make
 * {@link #createIfAbsent} race-free: two callers for one id get the same key.
 */
public interface DataKeyStore {

    /** The request's key, creating and storing a fresh random one if it has none. */
    SecretKey createIfAbsent(UUID requestId) throws IOException;

    /** The request's key; empty when it was never created or has been destroyed. */
    Optional<SecretKey> find(UUID requestId) throws IOException;

    /** Destroys the request's key; false when there was none (destroying is idempotent). */
    boolean destroy(UUID requestId) throws IOException;

    /**
     * A pluggable implementation, found by {@link java.util.ServiceLoader} under the name {@code keys.store} gives
     * ({@link DataKeyStores#open}).
     */
    interface Provider {
        /** The value of {@code keys.store} that selects this implementation. */
        String name();

        /** Opens the store; fails (unchecked) with a message naming what is wrong when it cannot. */
        DataKeyStore open(KeyStoreConfig config);
    }
}
