package dev.loku.core.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a llama2.c vocabulary as a Hugging Face {@code tokenizer.json} (plus {@code tokenizer_config.json} and
 * {@code special_tokens_map.json}) that the Rust tokenizers library, and so DJL's {@code HuggingFaceTokenizer} and
 * transformers' {@code LlamaTokenizerFast}, encode to the same ids as {@link Llama2cTokenizer}.
 *
 * <p>How the two algorithms are made to agree:
 * <ul>
 *   <li>Normalizer: prepend "▁" (only to non-empty text, like the dummy prefix) and replace every " " by "▁";
 *       vocabulary pieces get the same "▁" for " ".</li>
 *   <li>No pre-tokenizer, so the whole text is one BPE word, as in llama2.c.</li>
 *   <li>llama2.c merges any adjacent pair whose concatenation is a token, best score first. BPE merges by rank, so the
 *       merge list holds every split (a, b) of every token t with a, b also tokens, ranked by t's score.</li>
 *   <li>byte_fallback with the same {@code <0xHH>} tokens.</li>
 *   <li>Special tokens are not listed under {@code added_tokens}: an added token is matched inside the raw text, so
 *       a literal "&lt;s&gt;" in a user's text would become BOS, which SentencePiece and llama2.c never do. BOS is added
 *       by the post-processor; {@link HfTokenizer} drops special ids before decoding.</li>
 * </ul>
 * One theoretical difference remains: when two different splits of the same token are both available at once,
 * llama2.c merges the leftmost while BPE merges the lower-ranked split. The tests compare both encoders over
 * thousands of texts.
 */
public final class HfTokenizerJsonWriter {
    public static final String SPACE_MARK = "\u2581";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfTokenizerJsonWriter() {}

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}. */
    public static void write(Llama2cTokenizer tok, Path dir, int modelMaxLength) throws IOException {
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson(tok));
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), tokenizerConfig(modelMaxLength));
        ObjectNode special = JSON.createObjectNode();
        special.put("bos_token", "<s>");
        special.put("eos_token", "</s>");
        special.put("unk_token", "<unk>");
        JSON.writeValue(dir.resolve("special_tokens_map.json").toFile(), special);
    }

    /** The tokenizer.json document. */
    public static ObjectNode tokenizerJson(Llama2cTokenizer tok) {
        int n = tok.vocabSize();
        String[] names = new String[n];
        Map<String, Integer> byName = new HashMap<>();
        boolean[] mergeable = new boolean[n];
        for (int id = 0; id < n; id++) {
            String name;
            if (id == Llama2cTokenizer.UNK_ID) {
                name = "<unk>";
            } else if (id == Llama2cTokenizer.BOS_ID) {
                name = "<s>";
            } else if (id == Llama2cTokenizer.EOS_ID) {
                name = "</s>";
            } else if (tok.byteValue(id) >= 0) {
                name = String.format("<0x%02X>", tok.byteValue(id));
            } else {
                name = strictUtf8(tok.pieceBytes(id), id).replace(" ", SPACE_MARK);
                mergeable[id] = true;
            }
            if (byName.putIfAbsent(name, id) != null) {
                throw new IllegalArgumentException("token " + id + " duplicates token " + byName.get(name)
                        + " (" + name + "); cannot write a tokenizer.json vocabulary");
            }
            names[id] = name;
        }

        // Every split of every token into two tokens, best merged score first.
        List<int[]> merges = new ArrayList<>(); // {merged id, left id, right id}
        for (int id = 0; id < n; id++) {
            if (!mergeable[id]) {
                continue;
            }
            String t = names[id];
            for (int cut = t.offsetByCodePoints(0, 1); cut < t.length(); cut = t.offsetByCodePoints(cut, 1)) {
                Integer a = byName.get(t.substring(0, cut));
                Integer b = byName.get(t.substring(cut));
                if (a != null && b != null && mergeable[a] && mergeable[b]) {
                    merges.add(new int[] {id, a, b});
                }
            }
        }
        merges.sort(Comparator.<int[]>comparingDouble(m -> -tok.score(m[0]))
                .thenComparingInt(m -> m[0])
                .thenComparingInt(m -> names[m[1]].length()));

        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens");

        ObjectNode normalizer = root.putObject("normalizer");
        normalizer.put("type", "Sequence");
        ArrayNode norms = normalizer.putArray("normalizers");
        norms.addObject().put("type", "Prepend").put("prepend", SPACE_MARK);
        ObjectNode replace = norms.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", SPACE_MARK);

        root.putNull("pre_tokenizer");

        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = post.putObject("special_tokens").putObject("<s>");
        bos.put("id", "<s>");
        bos.putArray("ids").add(Llama2cTokenizer.BOS_ID);
        bos.putArray("tokens").add("<s>");

        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        ObjectNode undo = decoders.addObject().put("type", "Replace");
        undo.putObject("pattern").put("String", SPACE_MARK);
        undo.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < n; id++) {
            vocab.put(names[id], id);
        }
        // "a b" strings are read by every tokenizers version; pieces never hold a space (it became '▁').
        ArrayNode mergeList = model.putArray("merges");
        for (int[] m : merges) {
            mergeList.add(names[m[1]] + " " + names[m[2]]);
        }
        return root;
    }

    static ObjectNode tokenizerConfig(int modelMaxLength) {
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("tokenizer_class", "LlamaTokenizerFast");
        cfg.put("add_bos_token", true);
        cfg.put("add_eos_token", false);
        cfg.put("bos_token", "<s>");
        cfg.put("eos_token", "</s>");
        cfg.put("unk_token", "<unk>");
        cfg.putNull("pad_token");
        cfg.put("model_max_length", modelMaxLength);
        cfg.put("clean_up_tokenization_spaces", false);
        return cfg;
    }

    private static String strictUtf8(byte[] bytes, int id) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("token " + id + " is not valid UTF-8; cannot write it to tokenizer.json");
        }
    }
}
