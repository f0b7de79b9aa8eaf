package dev.loku.runtime.artifact;

import dev.loku.events.ArtifactRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers: the hash that names every artifact, and the refs built from it alone. */
public final class Sha256 {

    private Sha256() {
    }

    /** A fresh digest. */
    public static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** Lower-case hex SHA-256 of {@code bytes}. */
    public static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    /** Whether {@code s} looks like a lower-case hex SHA-256 (64 characters). */
    public static boolean isHex(String s) {
        return s != null && s.length() == 64 && s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }

    /**
     * A ref by content alone: URI {@code sha256:<hex>}. A store finds a blob by its hash, so such a ref names any
     * stored copy of those bytes (a forget set's member content, a file about to be stored, a tree's entry).
     */
    public static ArtifactRef ref(String hex, long sizeBytes) {
        if (!isHex(hex)) {
            throw new IllegalArgumentException("not a lower-case hex SHA-256");
        }
        return new ArtifactRef("sha256:" + hex, hex, sizeBytes);
    }

    /** The content ref of {@code bytes}. */
    public static ArtifactRef refOf(byte[] bytes) {
        return ref(hex(bytes), bytes.length);
    }

    /** The content ref of a file, read once. */
    public static ArtifactRef refOf(Path file) throws IOException {
        MessageDigest sha = digest();
        long size;
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            size = in.transferTo(OutputStream.nullOutputStream());
        }
        return ref(HexFormat.of().formatHex(sha.digest()), size);
    }
}
