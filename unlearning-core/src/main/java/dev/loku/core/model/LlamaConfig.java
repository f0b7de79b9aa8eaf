package dev.loku.core.model;

import static dev.loku.core.model.HfConfigFields.doubleOr;
import static dev.loku.core.model.HfConfigFields.intOr;
import static dev.loku.core.model.HfConfigFields.require;
import static dev.loku.core.model.HfConfigFields.requiredInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The shape of a Llama-block decoder: Llama itself and the two families transformers derives from it, Mistral
 * (a sliding window on every layer) and Qwen2 (q/k/v biases, sliding windows on the upper layers when enabled).
 * Field names follow Hugging Face's {@code LlamaConfig}; {@link #rotaryLayout} records how the loaded q/k rows pair
 * dimensions.
 *
 * @param family {@link ModelFamily#LLAMA}, {@link ModelFamily#MISTRAL} or {@link ModelFamily#QWEN2}
 * @param padTokenId -1 when the model defines none
 * @param ropeScaling null when frequencies are not scaled
 * @param qkvBias q, k and v projections carry a bias (Llama's {@code attention_bias}, always on for Qwen2)
 * @param outputBias o_proj carries a bias (Llama's {@code attention_bias})
 * @param mlpBias gate, up and down projections carry a bias (Llama's {@code mlp_bias})
 * @param windows per layer, the sliding window (0 for global attention); empty when every layer is global
 */
public record LlamaConfig(
        ModelFamily family,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        RotaryLayout rotaryLayout,
        int bosTokenId,
        List<Integer> eosTokenIds,
        int padTokenId,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        List<Integer> windows) implements ModelConfig {

    public LlamaConfig {
        require(family == ModelFamily.LLAMA || family == ModelFamily.MISTRAL || family == ModelFamily.QWEN2,
                "a Llama-block config cannot describe " + family);
        require(hiddenSize > 0, "hidden_size must be positive, got " + hiddenSize);
        require(intermediateSize > 0, "intermediate_size must be positive, got " + intermediateSize);
        require(numLayers > 0, "num_hidden_layers must be positive, got " + numLayers);
        require(numHeads > 0, "num_attention_heads must be positive, got " + numHeads);
        require(numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_key_value_heads (" + numKvHeads + ") must divide num_attention_heads (" + numHeads + ")");
        require(headDim > 0 && headDim % 2 == 0, "head_dim must be a positive even number, got " + headDim);
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
        require(rmsNormEps > 0, "rms_norm_eps must be positive");
        require(ropeTheta > 0, "rope_theta must be positive");
        require(rotaryLayout != null, "rotary layout missing");
        eosTokenIds = List.copyOf(eosTokenIds);
        windows = windows.stream().allMatch(w -> w == 0) ? List.of() : List.copyOf(windows);
        require(windows.isEmpty() || windows.size() == numLayers,
                "one sliding window per layer: " + windows.size() + " for " + numLayers + " layers");
        for (int w : windows) {
            require(w >= 0, "sliding_window must be positive, got " + w);
        }
        switch (family) {
            case LLAMA -> require(windows.isEmpty() && qkvBias == outputBias,
                    "a Llama config has no sliding window and one attention_bias for q, k, v and o");
            case MISTRAL -> require(!qkvBias && !outputBias && !mlpBias
                            && (windows.isEmpty() || windows.stream().distinct().count() == 1),
                    "a Mistral config has no biases and one sliding window for every layer");
            case QWEN2 -> require(qkvBias && !outputBias && !mlpBias
                            && windows.stream().filter(w -> w > 0).distinct().count() <= 1,
                    "a Qwen2 config has q/k/v biases only and one sliding window size");
            default -> throw new IllegalStateException();
        }
    }

    /** A plain Llama (no biases, global attention everywhere). */
    public LlamaConfig(int hiddenSize, int intermediateSize, int numLayers, int numHeads, int numKvHeads, int headDim,
                       int vocabSize, int maxPositionEmbeddings, double rmsNormEps, double ropeTheta,
                       RopeScaling ropeScaling, boolean tieWordEmbeddings, RotaryLayout rotaryLayout, int bosTokenId,
                       List<Integer> eosTokenIds, int padTokenId) {
        this(ModelFamily.LLAMA, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, vocabSize,
                maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, tieWordEmbeddings, rotaryLayout,
                bosTokenId, eosTokenIds, padTokenId, false, false, false, List.of());
    }

    /**
     * Random-initialisation presets for benchmarks: {@code llama-125m} (about 124M parameters, GPT-Neo-125M's
     * scale with a Llama block and a 32k tied vocabulary) and {@code llama-1b} (TinyLlama-1.1B's dimensions:
     * 2048 wide, 22 layers, 32 heads with 4 KV heads, 5632 MLP, untied head, about 1.1B parameters), {@code llama-7b}
     * and {@code llama-13b} (Llama-2-7B's and -13B's dimensions, for memory benchmarks on large devices).
     */
    public static LlamaConfig preset(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "llama-125m":
                return new LlamaConfig(768, 2560, 12, 12, 12, 64, 32000, 2048, 1e-5, 10000.0, null, true,
                        RotaryLayout.HALF, 1, List.of(2), -1);
            case "llama-1b":
                return new LlamaConfig(2048, 5632, 22, 32, 4, 64, 32000, 2048, 1e-5, 10000.0, null, false,
                        RotaryLayout.HALF, 1, List.of(2), -1);
            case "llama-7b":
                // Llama-2-7B's dimensions (the paper's TOFU model): 4096 wide, 32 layers, 32 heads, 11008 MLP.
                return new LlamaConfig(4096, 11008, 32, 32, 32, 128, 32000, 4096, 1e-5, 10000.0, null, false,
                        RotaryLayout.HALF, 1, List.of(2), -1);
            case "llama-13b":
                // Llama-2-13B's: 5120 wide, 40 layers, 40 heads, 13824 MLP.
                return new LlamaConfig(5120, 13824, 40, 40, 40, 128, 32000, 4096, 1e-5, 10000.0, null, false,
                        RotaryLayout.HALF, 1, List.of(2), -1);
            case "tiny":
                // For tests: small enough to check gradients by finite differences.
                return new LlamaConfig(32, 48, 2, 4, 2, 8, 64, 128, 1e-5, 10000.0, null, false,
                        RotaryLayout.HALF, 1, List.of(2), -1);
            default:
                throw new IllegalArgumentException("unknown model preset '" + name
                        + "'; choose llama-125m, llama-1b, llama-7b, llama-13b or tiny");
        }
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    @Override
    public int attentionWindow(int layer) {
        return windows.isEmpty() ? 0 : windows.get(layer);
    }

    @Override
    public String embeddingName() {
        return "model.embed_tokens.weight";
    }

    public LlamaConfig withRotaryLayout(RotaryLayout layout) {
        return new LlamaConfig(family, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                vocabSize, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, tieWordEmbeddings, layout,
                bosTokenId, eosTokenIds, padTokenId, qkvBias, outputBias, mlpBias, windows);
    }

    @Override
    public Map<String, long[]> parameterShapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(embeddingName(), new long[] {vocabSize, hiddenSize});
        for (int i = 0; i < numLayers; i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {hiddenSize});
            ParameterShapes.linear(shapes, p + "self_attn.q_proj", qDim(), hiddenSize, qkvBias);
            ParameterShapes.linear(shapes, p + "self_attn.k_proj", kvDim(), hiddenSize, qkvBias);
            ParameterShapes.linear(shapes, p + "self_attn.v_proj", kvDim(), hiddenSize, qkvBias);
            ParameterShapes.linear(shapes, p + "self_attn.o_proj", hiddenSize, qDim(), outputBias);
            shapes.put(p + "post_attention_layernorm.weight", new long[] {hiddenSize});
            ParameterShapes.linear(shapes, p + "mlp.gate_proj", intermediateSize, hiddenSize, mlpBias);
            ParameterShapes.linear(shapes, p + "mlp.up_proj", intermediateSize, hiddenSize, mlpBias);
            ParameterShapes.linear(shapes, p + "mlp.down_proj", hiddenSize, intermediateSize, mlpBias);
        }
        shapes.put("model.norm.weight", new long[] {hiddenSize});
        if (!tieWordEmbeddings) {
            shapes.put("lm_head.weight", new long[] {vocabSize, hiddenSize});
        }
        return shapes;
    }


    /**
     * Reads the {@code config.json} of a Llama, Mistral or Qwen2 checkpoint. Throws {@link IllegalArgumentException}
     * with a message naming the offending field for anything this runtime cannot run (another activation, a rope
     * scaling other than linear and llama3, a partial rotary factor).
     */
    public static LlamaConfig fromHfJson(JsonNode c) {
        ModelFamily family = ModelFamily.of(c);
        require(family == ModelFamily.LLAMA || family == ModelFamily.MISTRAL || family == ModelFamily.QWEN2,
                family.architecture() + " is not a Llama-block model");
        String act = c.path("hidden_act").asText("silu");
        require("silu".equals(act), "hidden_act '" + act + "' is not supported (silu only)");
        double partial = HfConfigFields.partialRotaryFactor(c);
        require(partial == 1.0, "partial_rotary_factor " + partial + " is not supported for " + family.modelType()
                + " (1.0 only)");
        int hidden = requiredInt(c, "hidden_size");
        int heads = requiredInt(c, "num_attention_heads");
        int layers = requiredInt(c, "num_hidden_layers");
        int kvHeads = intOr(c, "num_key_value_heads", heads);
        int headDim = intOr(c, "head_dim", hidden / Math.max(heads, 1));
        int maxPos = intOr(c, "max_position_embeddings", 2048);
        boolean attentionBias = c.path("attention_bias").asBoolean(false);
        boolean mlpBias = c.path("mlp_bias").asBoolean(false);
        boolean qkvBias = family == ModelFamily.QWEN2 || attentionBias;
        boolean outputBias = family == ModelFamily.LLAMA && attentionBias;
        if (family != ModelFamily.LLAMA) {
            require(!attentionBias && !mlpBias, family.modelType() + " has no attention_bias/mlp_bias options");
        }
        boolean llamaIds = family != ModelFamily.QWEN2; // Llama and Mistral configs default to BOS 1, EOS 2
        JsonNode pad = c.get("pad_token_id");
        return new LlamaConfig(
                family,
                hidden,
                requiredInt(c, "intermediate_size"),
                layers,
                heads,
                kvHeads,
                headDim,
                requiredInt(c, "vocab_size"),
                maxPos,
                doubleOr(c, "rms_norm_eps", 1e-6),
                HfConfigFields.ropeTheta(c, 10000.0),
                HfConfigFields.ropeScaling(c, maxPos),
                c.path("tie_word_embeddings").asBoolean(false),
                RotaryLayout.HALF,
                intOr(c, "bos_token_id", llamaIds ? 1 : -1),
                HfConfigFields.eosIds(c, llamaIds ? List.of(2) : List.of()),
                pad == null || !pad.isNumber() ? -1 : pad.asInt(),
                qkvBias,
                outputBias,
                mlpBias,
                windows(family, c, layers));
    }

    /** Mistral: {@code sliding_window} on every layer. Qwen2: {@code layer_types}, else its older switches. */
    private static List<Integer> windows(ModelFamily family, JsonNode c, int layers) {
        JsonNode sw = c.get("sliding_window");
        int window = sw != null && sw.isNumber() ? sw.asInt() : 0;
        if (family == ModelFamily.LLAMA || window <= 0) {
            return List.of();
        }
        if (family == ModelFamily.MISTRAL) {
            return Collections.nCopies(layers, window);
        }
        List<Integer> out = new ArrayList<>();
        JsonNode types = c.get("layer_types");
        if (types != null && types.isArray()) {
            require(types.size() == layers, "layer_types has " + types.size() + " entries for " + layers
                    + " layers");
            for (JsonNode t : types) {
                String type = t.asText();
                require(type.equals("full_attention") || type.equals("sliding_attention"),
                        "layer_types entry '" + type + "' is not supported (full_attention, sliding_attention)");
                out.add(type.equals("sliding_attention") ? window : 0);
            }
            return out;
        }
        boolean enabled = c.path("use_sliding_window").asBoolean(false);
        int firstSliding = intOr(c, "max_window_layers", layers);
        for (int i = 0; i < layers; i++) {
            out.add(enabled && i >= firstSliding ? window : 0);
        }
        return out;
    }

    /** A {@code config.json} transformers loads as this family (always the half rotary layout). */
    @Override
    public ObjectNode toHfJson() {
        ObjectNode c = HfConfigFields.start(family);
        c.put("hidden_size", hiddenSize);
        c.put("intermediate_size", intermediateSize);
        c.put("num_hidden_layers", numLayers);
        c.put("num_attention_heads", numHeads);
        c.put("num_key_value_heads", numKvHeads);
        c.put("head_dim", headDim);
        c.put("vocab_size", vocabSize);
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("rms_norm_eps", rmsNormEps);
        HfConfigFields.putRope(c, ropeTheta, ropeScaling);
        c.put("hidden_act", "silu");
        c.put("attention_dropout", 0.0);
        int window = windows.stream().filter(w -> w > 0).findFirst().orElse(0);
        switch (family) {
            case LLAMA -> {
                c.put("attention_bias", qkvBias);
                c.put("mlp_bias", mlpBias);
                c.put("pretraining_tp", 1);
            }
            case MISTRAL -> {
                if (window > 0) {
                    c.put("sliding_window", window);
                } else {
                    c.putNull("sliding_window");
                }
            }
            case QWEN2 -> {
                c.put("use_sliding_window", window > 0);
                if (window > 0) {
                    c.put("sliding_window", window);
                } else {
                    c.putNull("sliding_window");
                }
                int first = 0;
                while (first < numLayers && attentionWindow(first) == 0) {
                    first++;
                }
                c.put("max_window_layers", first);
                ArrayNode types = c.putArray("layer_types");
                for (int i = 0; i < numLayers; i++) {
                    types.add(attentionWindow(i) > 0 ? "sliding_attention" : "full_attention");
                }
            }
            default -> throw new IllegalStateException();
        }
        return HfConfigFields.finish(c, this);
    }
}
