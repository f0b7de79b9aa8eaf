package dev.loku.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.testing.TestTexts;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The written tokenizer.json, run by the Rust tokenizers library through DJL, must agree with the Java encoder. */
class HfTokenizerJsonWriterTest {
    @TempDir
    static Path dir;

    private static Llama2cTokenizer java;
    private static HfTokenizer hf;

    @BeforeAll
    static void write() throws Exception {
        java = Llama2cTokenizer.load(ProjectFiles.stories260K().resolve("tok512.bin"), 512);
        HfTokenizerJsonWriter.write(java, dir, 512);
        hf = HfTokenizer.load(dir.resolve("tokenizer.json"), -1, -1, -1);
    }

    @AfterAll
    static void close() {
        hf.close();
    }

    @Test
    void specialIdsComeFromTokenizerConfig() {
        assertEquals(1, hf.bosId());
        assertEquals(2, hf.eosId());
        assertEquals(512, hf.vocabSize());
    }

    @Test
    void sameIdsAsTheJavaEncoderOnEveryTestText() {
        List<String> texts = TestTexts.all();
        assertTrue(texts.size() > 3000, "corpus too small: " + texts.size());
        int checked = 0;
        for (String text : texts) {
            assertArrayEquals(java.encode(text, true), hf.encode(text, true), () -> "text: " + text);
            assertArrayEquals(java.encode(text, false), hf.encode(text, false), () -> "text: " + text);
            checked++;
        }
        assertEquals(texts.size(), checked);
    }

    @Test
    void sameDecodingAsTheJavaDecoder() {
        for (String text : TestTexts.all()) {
            int[] ids = java.encode(text, true);
            assertEquals(java.decode(ids), hf.decode(ids), () -> "text: " + text);
            assertEquals(text, hf.decode(ids), () -> "text: " + text);
        }
    }

    @Test
    void writesALlamaStyleBpeWithByteFallback() throws Exception {
        JsonNode root = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile());
        JsonNode model = root.get("model");
        assertEquals("BPE", model.get("type").asText());
        assertTrue(model.get("byte_fallback").asBoolean());
        assertEquals(512, model.get("vocab").size());
        assertEquals(3, model.get("vocab").get("<0x00>").asInt());
        assertEquals(410, model.get("vocab").get("\u2581").asInt());
        // The first merge builds the best-scored token, " t" (id 259, score 0) from "▁" and "t".
        assertEquals("\u2581 t", model.get("merges").get(0).asText());
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("tokenizer_config.json").toFile());
        assertEquals("<s>", cfg.get("bos_token").asText());
        assertEquals("LlamaTokenizerFast", cfg.get("tokenizer_class").asText());
    }
}
