package dev.loku.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.io.FileFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's native tokenizers binding. Truncation and padding are switched
 * off (DJL would otherwise cut at 512 tokens and pad batches), special tokens are never added by the library: BOS is
 * prepended here when asked, so every tokenizer behaves the same whatever its post-processor says.
 */
public final class HfTokenizer implements TextTokenizer, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final Path file;
    private final int vocabSize;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final Map<String, Integer> vocab;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, Path file, Map<String, Integer> vocab, int vocabSize,
                        int bosId, int eosId, int padId) {
        this.tokenizer = tokenizer;
        this.file = file;
        this.vocab = vocab;
        this.vocabSize = vocabSize;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
    }

    /**
     * Loads {@code tokenizer.json}. Special ids given as -1 are looked up from {@code tokenizer_config.json} next to
     * it ({@code bos_token}, {@code eos_token}, {@code pad_token}); a missing pad falls back to EOS.
     */
    public static HfTokenizer load(Path tokenizerJson, int bosId, int eosId, int padId) throws IOException {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new NoSuchFileException(tokenizerJson.toString(), null, "file not found");
        }
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson.toFile());
        } catch (IOException e) {
            throw new FileFormatException(tokenizerJson, "not valid JSON (" + firstLine(e.getMessage()) + ")", e);
        }
        Map<String, Integer> vocab = new HashMap<>();
        JsonNode modelVocab = root.path("model").path("vocab");
        if (modelVocab.isObject()) {
            modelVocab.properties().forEach(f -> vocab.put(f.getKey(), f.getValue().asInt()));
        } else if (modelVocab.isArray()) {
            // Unigram models store [piece, score] pairs; the id is the index.
            for (int i = 0; i < modelVocab.size(); i++) {
                vocab.put(modelVocab.get(i).get(0).asText(), i);
            }
        }
        for (JsonNode added : root.path("added_tokens")) {
            vocab.put(added.path("content").asText(), added.path("id").asInt());
        }
        int size = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;

        JsonNode config = null;
        Path configFile = tokenizerJson.resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(configFile)) {
            config = JSON.readTree(configFile.toFile());
        }
        int bos = bosId >= 0 ? bosId : specialId(config, "bos_token", vocab);
        int eos = eosId >= 0 ? eosId : specialId(config, "eos_token", vocab);
        int pad = padId >= 0 ? padId : specialId(config, "pad_token", vocab);
        if (pad < 0) {
            pad = eos;
        }

        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "false");
        options.put("truncation", "false");
        options.put("padding", "false");
        HuggingFaceTokenizer hf;
        try (InputStream in = Files.newInputStream(tokenizerJson)) {
            hf = HuggingFaceTokenizer.newInstance(in, options);
        } catch (RuntimeException e) {
            throw new FileFormatException(tokenizerJson, "the tokenizers library rejected it ("
                    + firstLine(e.getMessage()) + ")", e);
        }
        return new HfTokenizer(hf, tokenizerJson, vocab, size, bos, eos, pad);
    }

    private static int specialId(JsonNode config, String key, Map<String, Integer> vocab) {
        if (config == null) {
            return -1;
        }
        JsonNode v = config.get(key);
        if (v == null || v.isNull()) {
            return -1;
        }
        String content = v.isObject() ? v.path("content").asText() : v.asText();
        Integer id = vocab.get(content);
        return id == null ? -1 : id;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no detail";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int offset = addBos && bosId >= 0 ? 1 : 0;
        int[] out = new int[ids.length + offset];
        if (offset == 1) {
            out[0] = bosId;
        }
        for (int i = 0; i < ids.length; i++) {
            out[i + offset] = (int) ids[i];
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        // Special ids are dropped here rather than by the library: tokenizers only knows tokens listed as added
        // tokens to be special, and our own exported files deliberately list none.
        long[] kept = Arrays.stream(ids).filter(id -> id != bosId && id != eosId && id != padId && id >= 0)
                .mapToLong(id -> id).toArray();
        return tokenizer.decode(kept, true);
    }

    /** The id of a token string, or -1. */
    public int tokenId(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    /** The tokenizer.json this was loaded from (the exporter copies it). */
    public Path file() {
        return file;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
