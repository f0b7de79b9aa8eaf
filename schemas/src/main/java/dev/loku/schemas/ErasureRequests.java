package dev.loku.schemas;

import dev.loku.events.ErasureRequest;
import dev.loku.events.QaPair;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What may be said about an erasure request without repeating the data it asks to erase. The generated
 * {@code ErasureRequest.toString()} prints the content: never log a request with it; log {@link #describe} instead.
 */
public final class ErasureRequests {

    private ErasureRequests() {
    }

    /**
     * Lower-case hex SHA-256 of the request's content in a canonical encoding: for each text, in order, the tag
     * {@code T} followed by its UTF-8 bytes; then for each QA pair, in order, {@code Q} + question and {@code A} +
     * answer; every string preceded by its byte length as a 4-byte big-endian int. Lengths and tags keep different
     * contents from colliding (["ab"] vs ["a","b"], a text vs a QA pair). The same content gives the same hash
     * whatever else differs (ids, reason, times), so auditors can match a request to data they hold without the
     * pipeline keeping that data.
     */
    public static String contentSha256(ErasureRequest request) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        for (String text : request.getTexts()) {
            update(sha, 'T', text);
        }
        for (QaPair qa : request.getQaPairs()) {
            update(sha, 'Q', qa.getQuestion());
            update(sha, 'A', qa.getAnswer());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void update(MessageDigest sha, char tag, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        sha.update((byte) tag);
        sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
        sha.update(bytes);
    }

    /** A log-safe one-line description: ids, counts and the content hash, never the content or subject id. */
    public static String describe(ErasureRequest request) {
        return "requestId=" + request.getRequestId() + " tenantId=" + request.getTenantId() + " modelId="
                + request.getModelId() + " reason=" + request.getReason() + " texts=" + request.getTexts().size()
                + " qaPairs=" + request.getQaPairs().size() + " contentSha256=" + contentSha256(request);
    }
}
