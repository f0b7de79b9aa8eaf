package dev.loku.runtime.crypto;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.events.ErasureRequest;
import dev.loku.events.QaPair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * An erasure request's content in the two forms the pipeline knows: the JSONL the engine reads (one
 * {@code {"text"}} line per text, then one {@code {"question","answer"}} line per QA pair: the plaintext of
 * {@code ErasureRequest.sealedContent}), and sealed under the request's data key. Producers call {@link #sealed}
 * before a request reaches the topic; ingest calls {@link #opened} and works on the result in memory only.
 */
public final class SealedRequests {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SealedRequests() {
    }

    /** The content could be opened but is not content JSONL; the message gives a line number, never the line. */
    public static final class NotContentException extends Exception {
        private final int line;

        NotContentException(UUID requestId, int line) {
            super("the sealed content of request " + requestId + " is not content JSONL (line " + line + ")");
            this.line = line;
        }

        /** The 1-based line that is not a content line. */
        public int line() {
            return line;
        }
    }

    /** The request's texts, then its QA pairs, one JSON object per line, UTF-8. */
    public static byte[] contentJsonl(List<String> texts, List<QaPair> qaPairs) {
        StringBuilder sb = new StringBuilder();
        try {
            for (String text : texts) {
                sb.append(JSON.writeValueAsString(JSON.createObjectNode().put("text", text))).append('\n');
            }
            for (QaPair qa : qaPairs) {
                sb.append(JSON.writeValueAsString(JSON.createObjectNode().put("question", qa.getQuestion())
                        .put("answer", qa.getAnswer()))).append('\n');
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write request content as JSON");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** {@link #contentJsonl} of the request's plaintext fields. */
    public static byte[] contentJsonl(ErasureRequest request) {
        return contentJsonl(request.getTexts(), request.getQaPairs());
    }

    /**
     * The request as a producer must send it: texts and QA pairs moved, as JSONL, into {@code sealedContent} under
     * the request's data key (created if it has none), the plaintext fields empty.
     */
    public static ErasureRequest sealed(ContentSeal seal, ErasureRequest plaintext) throws IOException {
        if (plaintext.getSealedContent() != null) {
            return plaintext;
        }
        return ErasureRequest.newBuilder(plaintext)
                .setSealedContent(seal.seal(plaintext.getRequestId(), contentJsonl(plaintext)))
                .setTexts(List.of()).setQaPairs(List.of()).build();
    }

    /**
     * The sealed request with its content opened into texts and QA pairs (and {@code sealedContent} null): for
     * validation and hashing in memory, never to be published or stored.
     */
    public static ErasureRequest opened(ContentSeal seal, ErasureRequest sealed)
            throws ContentSeal.UnsealException, NotContentException, IOException {
        UUID id = sealed.getRequestId();
        byte[] jsonl = seal.open(id, sealed.getSealedContent());
        List<String> texts = new ArrayList<>();
        List<QaPair> qas = new ArrayList<>();
        String[] lines = new String(jsonl, StandardCharsets.UTF_8).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (i == lines.length - 1 && lines[i].isEmpty()) {
                break;
            }
            JsonNode node;
            try {
                node = JSON.readTree(lines[i]);
            } catch (JsonProcessingException e) {
                throw new NotContentException(id, i + 1);
            }
            if (node != null && node.isObject() && node.size() == 1 && node.path("text").isTextual()) {
                if (!qas.isEmpty()) {
                    throw new NotContentException(id, i + 1); // texts come first
                }
                texts.add(node.get("text").asText());
            } else if (node != null && node.isObject() && node.size() == 2 && node.path("question").isTextual()
                    && node.path("answer").isTextual()) {
                qas.add(new QaPair(node.get("question").asText(), node.get("answer").asText()));
            } else {
                throw new NotContentException(id, i + 1);
            }
        }
        return ErasureRequest.newBuilder(sealed).setTexts(texts).setQaPairs(qas).setSealedContent(null).build();
    }
}
