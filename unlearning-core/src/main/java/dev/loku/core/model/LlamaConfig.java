package dev.loku.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The shape of a Llama-family decoder: everything the forward pass needs besides the weights. Field names follow
 * Hugging Face's {@code LlamaConfig}; {@link #rotaryLayout} records how the loaded q/k rows pair dimensions.
 *
 * @param padTokenId -1 when the model defines none
 * @param ropeScaling null when frequencies are not scaled
 */
public record LlamaConfig(
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
        int padTokenId) {

    public LlamaConfig {
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
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Random-initialisation presets for benchmarks: {@code llama-125m} (about 124M parameters, GPT-Neo-125M's
     * scale with a Llama block and a 32k tied vocabulary) and {@code llama-1b} (TinyLlama-1.1B's dimensions:
     * 2048 wide, 22 layers, 32 heads with 4 KV heads, 5632 MLP, untied head, about 1.1B parameters).
     */
    public static LlamaConfig preset(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "llama-125m":
                return new LlamaConfig(768, 2560, 12, 12, 12, 64, 32000, 2048, 1e-5, 10000.0, null, true,
                        RotaryLayout.HALF, 1, List.of(2), -1);
            case "llama-1b":
                return new LlamaConfig(2048, 5632, 22, 32, 4, 64, 32000, 2048, 1e-5, 10000.0, null, false,
                        RotaryLayout.HALF, 1, List.of(2), -1);
            case "tiny":
                // For tests: small enough to check gradients by finite differences.
                return new LlamaConfig(32, 48, 2, 4, 2, 8, 64, 128, 1e-5, 10000.0, null, false,
                        RotaryLayout.HALF, 1, List.of(2), -1);
            default:
                throw new IllegalArgumentException("unknown model preset '" + name
                        + "'; choose llama-125m, llama-1b or tiny");
        }
    }

    public int eosTokenId() {
        return eosTokenIds.isEmpty() ? -1 : eosTokenIds.get(0);
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    public LlamaConfig withRotaryLayout(RotaryLayout layout) {
        return new LlamaConfig(hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, vocabSize,
                maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, tieWordEmbeddings, layout, bosTokenId,
                eosTokenIds, padTokenId);
    }

    /** Every parameter's Hugging Face name and shape, in a stable order (embedding, layers, final norm, head). */
    public Map<String, long[]> parameterShapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {vocabSize, hiddenSize});
        for (int i = 0; i < numLayers; i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {hiddenSize});
            shapes.put(p + "self_attn.q_proj.weight", new long[] {qDim(), hiddenSize});
            shapes.put(p + "self_attn.k_proj.weight", new long[] {kvDim(), hiddenSize});
            shapes.put(p + "self_attn.v_proj.weight", new long[] {kvDim(), hiddenSize});
            shapes.put(p + "self_attn.o_proj.weight", new long[] {hiddenSize, qDim()});
            shapes.put(p + "post_attention_layernorm.weight", new long[] {hiddenSize});
            shapes.put(p + "mlp.gate_proj.weight", new long[] {intermediateSize, hiddenSize});
            shapes.put(p + "mlp.up_proj.weight", new long[] {intermediateSize, hiddenSize});
            shapes.put(p + "mlp.down_proj.weight", new long[] {hiddenSize, intermediateSize});
        }
        shapes.put("model.norm.weight", new long[] {hiddenSize});
        if (!tieWordEmbeddings) {
            shapes.put("lm_head.weight", new long[] {vocabSize, hiddenSize});
        }
        return shapes;
    }

    /** Number of parameters (a tied head counted once). */
    public long parameterCount() {
        long n = 0;
        for (long[] s : parameterShapes().values()) {
            long k = 1;
            for (long d : s) {
                k *= d;
            }
            n += k;
        }
        return n;
    }

    /**
     * Estimated floating-point operations of one forward pass over {@code batch × seq} tokens: two per
     * multiply-add of every projection and of the head, plus the two attention products (scores and weighted
     * values) over the full {@code seq × seq} square, which this implementation computes before masking. A backward
     * pass costs about twice this.
     */
    public double forwardFlops(long batch, long seq) {
        double perLayer = 2.0 * hiddenSize * qDim() + 2.0 * hiddenSize * kvDim() + 3.0 * hiddenSize * intermediateSize;
        double perToken = 2.0 * (numLayers * perLayer + (double) hiddenSize * vocabSize);
        double attention = 4.0 * numLayers * batch * seq * seq * qDim();
        return perToken * batch * seq + attention;
    }

    /**
     * Reads a Hugging Face {@code config.json}. Throws {@link IllegalArgumentException} with a message naming the
     * offending field for anything this runtime cannot run (another architecture, biases, another activation).
     */
    public static LlamaConfig fromHfJson(JsonNode c) {
        String modelType = c.path("model_type").asText("");
        boolean llama = "llama".equals(modelType);
        StringBuilder archs = new StringBuilder();
        for (JsonNode a : c.path("architectures")) {
            archs.append(archs.length() == 0 ? "" : ", ").append(a.asText());
            llama |= "LlamaForCausalLM".equals(a.asText());
        }
        if (!llama) {
            throw new IllegalArgumentException("architecture " + (archs.length() > 0 ? archs : "(none)")
                    + " with model_type '" + modelType + "' is not supported; supported: LlamaForCausalLM (llama)");
        }
        String act = c.path("hidden_act").asText("silu");
        require("silu".equals(act), "hidden_act '" + act + "' is not supported (silu only)");
        require(!c.path("attention_bias").asBoolean(false), "attention_bias=true is not supported");
        require(!c.path("mlp_bias").asBoolean(false), "mlp_bias=true is not supported");
        int hidden = requiredInt(c, "hidden_size");
        int heads = requiredInt(c, "num_attention_heads");
        int kvHeads = c.path("num_key_value_heads").isNumber() ? c.get("num_key_value_heads").asInt() : heads;
        int headDim = c.path("head_dim").isNumber() ? c.get("head_dim").asInt() : hidden / Math.max(heads, 1);
        RopeScaling scaling = null;
        JsonNode rs = c.get("rope_scaling");
        if (rs != null && !rs.isNull()) {
            String type = rs.has("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("");
            if (!"default".equals(type)) {
                scaling = new RopeScaling(type, rs.path("factor").asDouble(1.0), rs.path("low_freq_factor").asDouble(0),
                        rs.path("high_freq_factor").asDouble(0), rs.path("original_max_position_embeddings").asInt(0));
            }
        }
        List<Integer> eos;
        JsonNode eosNode = c.get("eos_token_id");
        if (eosNode == null || eosNode.isNull()) {
            eos = List.of(2);
        } else if (eosNode.isArray()) {
            Integer[] ids = new Integer[eosNode.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = eosNode.get(i).asInt();
            }
            eos = List.of(ids);
        } else {
            eos = List.of(eosNode.asInt());
        }
        JsonNode pad = c.get("pad_token_id");
        return new LlamaConfig(
                hidden,
                requiredInt(c, "intermediate_size"),
                requiredInt(c, "num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                requiredInt(c, "vocab_size"),
                c.path("max_position_embeddings").asInt(2048),
                c.path("rms_norm_eps").asDouble(1e-6),
                c.path("rope_theta").asDouble(10000.0),
                scaling,
                c.path("tie_word_embeddings").asBoolean(false),
                RotaryLayout.HALF,
                c.path("bos_token_id").isNumber() ? c.get("bos_token_id").asInt() : 1,
                eos,
                pad == null || !pad.isNumber() ? -1 : pad.asInt());
    }

    private static int requiredInt(JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException("'" + key + "' is missing or not a number");
        }
        return v.asInt();
    }

    /** A {@code config.json} for transformers' {@code LlamaForCausalLM} (always the half rotary layout). */
    public ObjectNode toHfJson() {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", hiddenSize);
        c.put("intermediate_size", intermediateSize);
        c.put("num_hidden_layers", numLayers);
        c.put("num_attention_heads", numHeads);
        c.put("num_key_value_heads", numKvHeads);
        c.put("head_dim", headDim);
        c.put("vocab_size", vocabSize);
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("rms_norm_eps", rmsNormEps);
        c.put("rope_theta", ropeTheta);
        if (ropeScaling == null) {
            c.putNull("rope_scaling");
        } else {
            ObjectNode rs = c.putObject("rope_scaling");
            rs.put("rope_type", ropeScaling.type());
            rs.put("factor", ropeScaling.factor());
            if ("llama3".equals(ropeScaling.type())) {
                rs.put("low_freq_factor", ropeScaling.lowFreqFactor());
                rs.put("high_freq_factor", ropeScaling.highFreqFactor());
                rs.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
        }
        c.put("tie_word_embeddings", tieWordEmbeddings);
        c.put("hidden_act", "silu");
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("mlp_bias", false);
        c.put("initializer_range", 0.02);
        c.put("pretraining_tp", 1);
        c.put("bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) {
            c.put("eos_token_id", eosTokenIds.get(0));
        } else {
            ArrayNode a = c.putArray("eos_token_id");
            eosTokenIds.forEach(a::add);
        }
        if (padTokenId >= 0) {
            c.put("pad_token_id", padTokenId);
        }
        c.put("torch_dtype", "float32");
        c.put("use_cache", true);
        return c;
    }
}
