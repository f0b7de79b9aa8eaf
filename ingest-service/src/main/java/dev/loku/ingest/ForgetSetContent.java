package dev.loku.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.events.ErasureRequest;
import dev.loku.events.QaPair;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The JSONL the engine reads (dev.loku.core.data.JsonlRecords): one {@code {"text": ...}} line per text and one
 * {@code {"question": ..., "answer": ...}} line per QA pair. A request's content artifact is its own lines; a
 * forget set's artifact is its members' artifacts concatenated in request-id order, so the set's bytes follow from
 * its members alone.
 */
final class ForgetSetContent {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ForgetSetContent() {
    }

    /** Members' artifacts, concatenated in the given order. */
    static byte[] concatenate(List<byte[]> memberLines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        memberLines.forEach(out::writeBytes);
        return out.toByteArray();
    }

    /** UTF-8 bytes of the content: texts, questions and answers (what {@code ingest.max.content.bytes} limits). */
    static long contentBytes(ErasureRequest request) {
        long n = 0;
        for (String t : request.getTexts()) {
            n += t.getBytes(StandardCharsets.UTF_8).length;
        }
        for (QaPair qa : request.getQaPairs()) {
            n += qa.getQuestion().getBytes(StandardCharsets.UTF_8).length + qa.getAnswer().getBytes(StandardCharsets.UTF_8).length;
        }
        return n;
    }
}
