package dev.loku.runtime.crypto;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The default {@link DataKeyStore}: one file per key, {@code <root>/<requestId>.key}, holding the 32 raw key bytes.
 * A key is written to a temporary file and then hard-linked to its name, which fails if the name exists: a key file
 * is never seen half written, and of two concurrent creators exactly one key wins, which both then read.
 * Destroying overwrites the file with zeros before deleting it (on copy-on-write or journalled storage the old
 * blocks may survive: keep the folder on storage you can wipe, separate from the artifact store's backups).
 */
public final class DirectoryDataKeyStore implements DataKeyStore {

    static final int KEY_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;

    public DirectoryDataKeyStore(Path root) throws IOException {
        this.root = Files.createDirectories(root.toAbsolutePath().normalize());
        Files.createDirectories(this.root.resolve("tmp"));
    }

    public Path root() {
        return root;
    }

    @Override
    public SecretKey createIfAbsent(UUID requestId) throws IOException {
        Optional<SecretKey> existing = find(requestId);
        if (existing.isPresent()) {
            return existing.get();
        }
        byte[] key = new byte[KEY_BYTES];
        RANDOM.nextBytes(key);
        Path tmp = Files.createTempFile(root.resolve("tmp"), requestId.toString(), ".key");
        try {
            Files.write(tmp, key, StandardOpenOption.SYNC);
            try {
                Files.createLink(file(requestId), tmp);
            } catch (FileAlreadyExistsException raced) {
                // Another creator won: its key is the request's key.
            }
        } finally {
            Arrays.fill(key, (byte) 0);
            Files.deleteIfExists(tmp);
        }
        return find(requestId).orElseThrow(() -> new IOException("data key of request " + requestId
                + " vanished while it was created (destroyed concurrently)"));
    }

    @Override
    public Optional<SecretKey> find(UUID requestId) throws IOException {
        byte[] key;
        try {
            key = Files.readAllBytes(file(requestId));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (key.length != KEY_BYTES) {
            throw new IOException("data key file of request " + requestId + " holds " + key.length
                    + " bytes, not " + KEY_BYTES + ": the key store is damaged");
        }
        SecretKey secret = new SecretKeySpec(key, "AES");
        Arrays.fill(key, (byte) 0);
        return Optional.of(secret);
    }

    @Override
    public boolean destroy(UUID requestId) throws IOException {
        Path file = file(requestId);
        if (!Files.exists(file)) {
            return false;
        }
        try {
            Files.write(file, new byte[KEY_BYTES], StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        } catch (NoSuchFileException e) {
            return false;
        }
        return Files.deleteIfExists(file);
    }

    private Path file(UUID requestId) {
        return root.resolve(requestId + ".key");
    }
}
