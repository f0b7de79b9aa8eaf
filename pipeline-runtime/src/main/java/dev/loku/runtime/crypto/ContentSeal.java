package dev.loku.runtime.crypto;

import dev.loku.events.SealedContent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Crypto-shredding's cipher: a request's content sealed with AES-256-GCM (128-bit tag) under the request's own data
 * key, a fresh random 96-bit nonce per sealing, and the request id's text as associated data, so a ciphertext moved
 * onto another request's record does not open. Errors name the request id only, never the content.
 */
public final class ContentSeal {

    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DataKeyStore keys;

    public ContentSeal(DataKeyStore keys) {
        this.keys = keys;
    }

    /** Why sealed content cannot be opened; the message names the request, never the content. */
    public static final class UnsealException extends Exception {
        private final Reason reason;
        private final UUID requestId;

        /** The two ways opening fails. */
        public enum Reason {
            /** The key was never stored or has been destroyed (PURGED). */
            KEY_MISSING,
            /** The ciphertext, nonce or key id do not belong together (tampered, or sealed for another request). */
            DOES_NOT_OPEN
        }

        UnsealException(Reason reason, UUID requestId) {
            super(reason == Reason.KEY_MISSING
                    ? "the data key of request " + requestId + " is not in the key store (destroyed or never stored)"
                    : "the sealed content of request " + requestId + " does not decrypt under its data key");
            this.reason = reason;
            this.requestId = requestId;
        }

        public Reason reason() {
            return reason;
        }

        /** The request whose content did not open. */
        public UUID requestId() {
            return requestId;
        }
    }

    /** Seals {@code plaintext} for {@code requestId}, creating the request's data key if it has none. */
    public SealedContent seal(UUID requestId, byte[] plaintext) throws java.io.IOException {
        return sealer(requestId).seal(plaintext);
    }

    /**
     * A sealer for the pieces of one request's content: the request's data key is looked up (or created) once here,
     * not once per piece; every piece still gets its own fresh nonce.
     */
    public Sealer sealer(UUID requestId) throws java.io.IOException {
        return new Sealer(requestId, keys.createIfAbsent(requestId));
    }

    /** Seals pieces of one request's content under the key {@link #sealer} found; not to be kept past the request. */
    public static final class Sealer {
        private final UUID requestId;
        private final SecretKey key;

        private Sealer(UUID requestId, SecretKey key) {
            this.requestId = requestId;
            this.key = key;
        }

        public SealedContent seal(byte[] plaintext) {
            byte[] nonce = new byte[NONCE_BYTES];
            RANDOM.nextBytes(nonce);
            try {
                Cipher gcm = cipher(Cipher.ENCRYPT_MODE, key, nonce, requestId);
                return new SealedContent(requestId, ByteBuffer.wrap(nonce), ByteBuffer.wrap(gcm.doFinal(plaintext)));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is not available in this JVM", e);
            }
        }
    }

    /**
     * The plaintext of {@code sealed}, which must belong to {@code requestId}.
     *
     * @throws UnsealException KEY_MISSING when the key is gone, DOES_NOT_OPEN when the key id is another request's or
     *                         the bytes were altered
     */
    public byte[] open(UUID requestId, SealedContent sealed) throws UnsealException, java.io.IOException {
        if (!requestId.equals(sealed.getKeyId())) {
            throw new UnsealException(UnsealException.Reason.DOES_NOT_OPEN, requestId);
        }
        Optional<SecretKey> key = keys.find(requestId);
        if (key.isEmpty()) {
            throw new UnsealException(UnsealException.Reason.KEY_MISSING, requestId);
        }
        byte[] nonce = bytes(sealed.getNonce());
        if (nonce.length != NONCE_BYTES) {
            throw new UnsealException(UnsealException.Reason.DOES_NOT_OPEN, requestId);
        }
        try {
            return cipher(Cipher.DECRYPT_MODE, key.get(), nonce, requestId).doFinal(bytes(sealed.getCiphertext()));
        } catch (AEADBadTagException e) {
            throw new UnsealException(UnsealException.Reason.DOES_NOT_OPEN, requestId);
        } catch (GeneralSecurityException e) {
            throw new UnsealException(UnsealException.Reason.DOES_NOT_OPEN, requestId);
        }
    }

    /**
     * One AES-GCM cipher per thread, initialised afresh for every use: {@link Cipher#getInstance} walks the provider
     * list each time, once or more per request on ingest's path. Every init here carries a new nonce (sealing) or the
     * sealed one (opening), so reuse never repeats a key and nonce pair.
     */
    private static final ThreadLocal<Cipher> GCM = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    });

    private static Cipher cipher(int mode, SecretKey key, byte[] nonce, UUID requestId) throws GeneralSecurityException {
        Cipher gcm = GCM.get();
        gcm.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
        gcm.updateAAD(requestId.toString().getBytes(StandardCharsets.UTF_8));
        return gcm;
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
