package dev.loku.runtime.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.events.SealedContent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.UUID;

/**
 * The sealed JSONL that request-content and forget-set artifacts hold: each line of the plaintext JSONL is sealed on
 * its own, under its request's data key, as one line {@code {"keyId":"<request id>","nonce":"<base64>",
 * "ciphertext":"<base64>"}}. Line for line, so a forget set is still its members' artifacts concatenated and each
 * member still contributes one line per item (what {@code ForgetSetLedger.memberContentRefs} counts on); a set
 * opens line by line with each line's own key, and once a member's key is destroyed its lines never open again,
 * whichever copy of the artifact survives.
 */
public final class SealedLines {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SealedLines() {
    }

    /** A line that is not a sealed line; the message gives the line number only. */
    public static final class MalformedException extends Exception {
        private final int line;

        MalformedException(int line) {
            super("line " + line + " is not a sealed line");
            this.line = line;
        }

        /** The 1-based line that is not a sealed line. */
        public int line() {
            return line;
        }
    }

    /** Seals every line of {@code jsonl} (each ending in '\n') for {@code requestId}. */
    public static byte[] seal(ContentSeal seal, UUID requestId, byte[] jsonl) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Base64.Encoder b64 = Base64.getEncoder();
        ContentSeal.Sealer sealer = null; // one key look-up for all the lines, none for no lines
        int start = 0;
        for (int i = 0; i < jsonl.length; i++) {
            if (jsonl[i] == '\n') {
                if (sealer == null) {
                    sealer = seal.sealer(requestId);
                }
                SealedContent s = sealer.seal(Arrays.copyOfRange(jsonl, start, i));
                String line = JSON.writeValueAsString(JSON.createObjectNode().put("keyId", requestId.toString())
                        .put("nonce", b64.encodeToString(bytes(s.getNonce())))
                        .put("ciphertext", b64.encodeToString(bytes(s.getCiphertext()))));
                out.writeBytes(line.getBytes(StandardCharsets.UTF_8));
                out.write('\n');
                start = i + 1;
            }
        }
        if (start != jsonl.length) {
            throw new IllegalArgumentException("JSONL must end with a newline");
        }
        return out.toByteArray();
    }

    /** The plaintext JSONL of sealed lines (each line opened under its own key id), in memory. */
    public static byte[] open(ContentSeal seal, byte[] sealed)
            throws ContentSeal.UnsealException, MalformedException, IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = 0;
        for (String line : lines(sealed)) {
            n++;
            Parsed p = parse(line, n);
            out.writeBytes(seal.open(p.keyId, p.sealed));
            out.write('\n');
        }
        return out.toByteArray();
    }

    /** The key ids of the lines, in order of first appearance. */
    public static Set<UUID> keyIds(byte[] sealed) throws MalformedException {
        Set<UUID> ids = new LinkedHashSet<>();
        int n = 0;
        for (String line : lines(sealed)) {
            ids.add(parse(line, ++n).keyId);
        }
        return ids;
    }

    private record Parsed(UUID keyId, SealedContent sealed) {
    }

    private static Parsed parse(String line, int n) throws MalformedException {
        try {
            JsonNode node = JSON.readTree(line);
            UUID id = UUID.fromString(node.get("keyId").asText());
            Base64.Decoder b64 = Base64.getDecoder();
            return new Parsed(id, new SealedContent(id, ByteBuffer.wrap(b64.decode(node.get("nonce").asText())),
                    ByteBuffer.wrap(b64.decode(node.get("ciphertext").asText()))));
        } catch (IOException | RuntimeException e) {
            throw new MalformedException(n);
        }
    }

    private static String[] lines(byte[] sealed) {
        String text = new String(sealed, StandardCharsets.UTF_8);
        if (text.isEmpty()) {
            return new String[0];
        }
        return (text.endsWith("\n") ? text.substring(0, text.length() - 1) : text).split("\n", -1);
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
