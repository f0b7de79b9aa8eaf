package dev.loku.core.model;

import static dev.loku.core.model.HfConfigFields.doubleOr;
import static dev.loku.core.model.HfConfigFields.intOr;
import static dev.loku.core.model.HfConfigFields.require;
import static dev.loku.core.model.HfConfigFields.requiredInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The shape of a GPT-Neo decoder ({@code GPTNeoForCausalLM}): learned absolute position embeddings, layers whose
 * attention is either global or local (each query sees the {@code window_size} most recent keys, itself
 * included), LayerNorms with bias, a {@code gelu_new} MLP of {@code intermediate_size} (4 × hidden when unset).
 * Field names follow transformers' {@code GPTNeoConfig}.
 *
 * @param windows per layer, the local window, 0 for a global layer
 * @param padTokenId -1 when the model defines none
 */
public record GptNeoConfig(
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int vocabSize,
        int maxPositionEmbeddings,
        double layerNormEps,
        List<Integer> windows,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        int padTokenId) implements ModelConfig {

    /** GPT-Neo's window when a config names none. */
    static final int DEFAULT_WINDOW = 256;

    public GptNeoConfig {
        require(hiddenSize > 0, "hidden_size must be positive, got " + hiddenSize);
        require(intermediateSize > 0, "intermediate_size must be positive, got " + intermediateSize);
        require(numLayers > 0, "num_layers must be positive, got " + numLayers);
        require(numHeads > 0 && hiddenSize % numHeads == 0,
                "num_heads (" + numHeads + ") must divide hidden_size (" + hiddenSize + ")");
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
        require(layerNormEps > 0, "layer_norm_epsilon must be positive");
        require(windows.size() == numLayers, "attention_layers has " + windows.size() + " entries for " + numLayers
                + " layers");
        require(windows.stream().filter(w -> w > 0).distinct().count() <= 1,
                "GPT-Neo's local layers share one window_size");
        windows = List.copyOf(windows);
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /**
     * Random-initialisation presets for benchmarks: {@code gpt-neo-125m} has the dimensions of EleutherAI's
     * GPT-Neo 125M (12 layers of 768, 12 heads, global and local layers alternating with a window of 256, 2048
     * positions, the 50257-token GPT-2 vocabulary, tied head).
     */
    public static GptNeoConfig preset(String name) {
        if (name.toLowerCase(Locale.ROOT).equals("gpt-neo-125m")) {
            List<Integer> windows = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                windows.add(i % 2 == 0 ? 0 : DEFAULT_WINDOW);
            }
            return new GptNeoConfig(768, 3072, 12, 12, 50257, 2048, 1e-5, windows, true, 50256, List.of(50256), -1);
        }
        throw new IllegalArgumentException("unknown model preset '" + name
                + "'; choose llama-125m, llama-1b, llama-7b, llama-13b, gpt-neo-125m or tiny");
    }

    @Override
    public ModelFamily family() {
        return ModelFamily.GPT_NEO;
    }

    @Override
    public int numKvHeads() {
        return numHeads;
    }

    @Override
    public int headDim() {
        return hiddenSize / numHeads;
    }

    @Override
    public int attentionWindow(int layer) {
        return windows.get(layer);
    }

    @Override
    public String embeddingName() {
        return "transformer.wte.weight";
    }

    @Override
    public Map<String, long[]> parameterShapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(embeddingName(), new long[] {vocabSize, hiddenSize});
        shapes.put("transformer.wpe.weight", new long[] {maxPositionEmbeddings, hiddenSize});
        for (int i = 0; i < numLayers; i++) {
            String p = "transformer.h." + i + ".";
            ParameterShapes.layerNorm(shapes, p + "ln_1", hiddenSize);
            ParameterShapes.linear(shapes, p + "attn.attention.q_proj", hiddenSize, hiddenSize, false);
            ParameterShapes.linear(shapes, p + "attn.attention.k_proj", hiddenSize, hiddenSize, false);
            ParameterShapes.linear(shapes, p + "attn.attention.v_proj", hiddenSize, hiddenSize, false);
            ParameterShapes.linear(shapes, p + "attn.attention.out_proj", hiddenSize, hiddenSize, true);
            ParameterShapes.layerNorm(shapes, p + "ln_2", hiddenSize);
            ParameterShapes.linear(shapes, p + "mlp.c_fc", intermediateSize, hiddenSize, true);
            ParameterShapes.linear(shapes, p + "mlp.c_proj", hiddenSize, intermediateSize, true);
        }
        ParameterShapes.layerNorm(shapes, "transformer.ln_f", hiddenSize);
        if (!tieWordEmbeddings) {
            shapes.put("lm_head.weight", new long[] {vocabSize, hiddenSize});
        }
        return shapes;
    }


    /** Reads a GPT-Neo {@code config.json}; throws {@link IllegalArgumentException} naming what cannot run. */
    public static GptNeoConfig fromHfJson(JsonNode c) {
        require(ModelFamily.of(c) == ModelFamily.GPT_NEO, "not a GPT-Neo config");
        HfConfigFields.requireGeluNew("activation_function", c.path("activation_function").asText("gelu_new"));
        int hidden = requiredInt(c, "hidden_size");
        int layers = requiredInt(c, "num_layers");
        int window = intOr(c, "window_size", DEFAULT_WINDOW);
        require(window > 0, "window_size must be positive, got " + window);
        List<Integer> windows = new ArrayList<>();
        for (String type : attentionLayers(c)) {
            require(type.equals("global") || type.equals("local"),
                    "attention layer type '" + type + "' is not supported (global, local)");
            windows.add(type.equals("local") ? window : 0);
        }
        require(windows.size() == layers, "attention_layers has " + windows.size() + " entries, num_layers is "
                + layers);
        JsonNode inner = c.get("intermediate_size");
        JsonNode pad = c.get("pad_token_id");
        return new GptNeoConfig(hidden, inner != null && inner.isNumber() ? inner.asInt() : 4 * hidden, layers,
                requiredInt(c, "num_heads"), requiredInt(c, "vocab_size"), intOr(c, "max_position_embeddings", 2048),
                doubleOr(c, "layer_norm_epsilon", 1e-5), windows, c.path("tie_word_embeddings").asBoolean(true),
                intOr(c, "bos_token_id", 50256), HfConfigFields.eosIds(c, List.of(50256)),
                pad == null || !pad.isNumber() ? -1 : pad.asInt());
    }

    /** {@code attention_layers}, else {@code attention_types} expanded ([[["global", "local"], 6]] → 12 entries). */
    private static List<String> attentionLayers(JsonNode c) {
        List<String> out = new ArrayList<>();
        JsonNode layers = c.get("attention_layers");
        if (layers != null && layers.isArray() && layers.size() > 0) {
            layers.forEach(t -> out.add(t.asText()));
            return out;
        }
        for (JsonNode group : c.path("attention_types")) {
            for (int i = 0; i < group.path(1).asInt(0); i++) {
                group.path(0).forEach(t -> out.add(t.asText()));
            }
        }
        require(!out.isEmpty(), "'attention_layers' (or 'attention_types') is missing");
        return out;
    }

    @Override
    public ObjectNode toHfJson() {
        ObjectNode c = HfConfigFields.start(family());
        c.put("activation_function", "gelu_new");
        ArrayNode layers = c.putArray("attention_layers");
        ArrayNode types = c.putArray("attention_types");
        for (int w : windows) {
            String type = w > 0 ? "local" : "global";
            layers.add(type);
            ArrayNode group = types.addArray();
            group.addArray().add(type);
            group.add(1);
        }
        c.put("window_size", windows.stream().filter(w -> w > 0).findFirst().orElse(DEFAULT_WINDOW));
        c.put("hidden_size", hiddenSize);
        c.put("intermediate_size", intermediateSize);
        c.put("num_layers", numLayers);
        c.put("num_heads", numHeads);
        c.put("vocab_size", vocabSize);
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("layer_norm_epsilon", layerNormEps);
        c.put("embed_dropout", 0.0);
        c.put("attention_dropout", 0.0);
        c.put("resid_dropout", 0.0);
        return HfConfigFields.finish(c, this);
    }
}
