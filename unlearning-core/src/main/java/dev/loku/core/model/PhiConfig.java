package dev.loku.core.model;

import static dev.loku.core.model.HfConfigFields.doubleOr;
import static dev.loku.core.model.HfConfigFields.intOr;
import static dev.loku.core.model.HfConfigFields.require;
import static dev.loku.core.model.HfConfigFields.requiredInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a Phi decoder ({@code PhiForCausalLM}, Phi-1.5 and Phi-2): one LayerNorm feeds attention and MLP in
 * parallel, rotary embeddings on the first {@link #rotaryDim} dimensions of each head (rotate_half pairing),
 * biases on every projection and on the head, a final LayerNorm. Field names follow transformers'
 * {@code PhiConfig}.
 *
 * @param partialRotaryFactor the fraction of each head's dimensions that rotate
 * @param ropeScaling null when frequencies are not scaled
 * @param padTokenId -1 when the model defines none
 */
public record PhiConfig(
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositionEmbeddings,
        double layerNormEps,
        double ropeTheta,
        double partialRotaryFactor,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        int padTokenId) implements ModelConfig {

    public PhiConfig {
        require(hiddenSize > 0, "hidden_size must be positive, got " + hiddenSize);
        require(intermediateSize > 0, "intermediate_size must be positive, got " + intermediateSize);
        require(numLayers > 0, "num_hidden_layers must be positive, got " + numLayers);
        require(numHeads > 0, "num_attention_heads must be positive, got " + numHeads);
        require(numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_key_value_heads (" + numKvHeads + ") must divide num_attention_heads (" + numHeads + ")");
        require(headDim > 0, "head_dim must be positive, got " + headDim);
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
        require(layerNormEps > 0, "layer_norm_eps must be positive");
        require(ropeTheta > 0, "rope_theta must be positive");
        int rotary = (int) (headDim * partialRotaryFactor);
        require(partialRotaryFactor > 0 && partialRotaryFactor <= 1 && rotary > 0 && rotary % 2 == 0,
                "partial_rotary_factor " + partialRotaryFactor + " of head_dim " + headDim
                        + " must give a positive even number of rotary dimensions");
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Dimensions of each head that rotate: {@code int(head_dim × partial_rotary_factor)}, as transformers. */
    public int rotaryDim() {
        return (int) (headDim * partialRotaryFactor);
    }

    @Override
    public ModelFamily family() {
        return ModelFamily.PHI;
    }

    @Override
    public int attentionWindow(int layer) {
        return 0;
    }

    @Override
    public String embeddingName() {
        return "model.embed_tokens.weight";
    }

    @Override
    public Map<String, long[]> parameterShapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(embeddingName(), new long[] {vocabSize, hiddenSize});
        long q = (long) numHeads * headDim;
        long kv = (long) numKvHeads * headDim;
        for (int i = 0; i < numLayers; i++) {
            String p = "model.layers." + i + ".";
            ParameterShapes.layerNorm(shapes, p + "input_layernorm", hiddenSize);
            ParameterShapes.linear(shapes, p + "self_attn.q_proj", q, hiddenSize, true);
            ParameterShapes.linear(shapes, p + "self_attn.k_proj", kv, hiddenSize, true);
            ParameterShapes.linear(shapes, p + "self_attn.v_proj", kv, hiddenSize, true);
            ParameterShapes.linear(shapes, p + "self_attn.dense", hiddenSize, q, true);
            ParameterShapes.linear(shapes, p + "mlp.fc1", intermediateSize, hiddenSize, true);
            ParameterShapes.linear(shapes, p + "mlp.fc2", hiddenSize, intermediateSize, true);
        }
        ParameterShapes.layerNorm(shapes, "model.final_layernorm", hiddenSize);
        if (!tieWordEmbeddings) {
            shapes.put("lm_head.weight", new long[] {vocabSize, hiddenSize});
        }
        shapes.put("lm_head.bias", new long[] {vocabSize});
        return shapes;
    }

    /** Reads a Phi {@code config.json}; throws {@link IllegalArgumentException} naming what cannot run. */
    public static PhiConfig fromHfJson(JsonNode c) {
        require(ModelFamily.of(c) == ModelFamily.PHI, "not a Phi config");
        HfConfigFields.requireGeluNew("hidden_act", c.path("hidden_act").asText("gelu_new"));
        require(!c.path("qk_layernorm").asBoolean(false), "qk_layernorm=true is not supported");
        int hidden = requiredInt(c, "hidden_size");
        int heads = requiredInt(c, "num_attention_heads");
        int maxPos = intOr(c, "max_position_embeddings", 2048);
        JsonNode pad = c.get("pad_token_id");
        return new PhiConfig(hidden, requiredInt(c, "intermediate_size"), requiredInt(c, "num_hidden_layers"), heads,
                intOr(c, "num_key_value_heads", heads), intOr(c, "head_dim", hidden / Math.max(heads, 1)),
                requiredInt(c, "vocab_size"), maxPos, doubleOr(c, "layer_norm_eps", 1e-5),
                HfConfigFields.ropeTheta(c, 10000.0), HfConfigFields.partialRotaryFactor(c),
                HfConfigFields.ropeScaling(c, maxPos), c.path("tie_word_embeddings").asBoolean(false),
                intOr(c, "bos_token_id", 1), HfConfigFields.eosIds(c, List.of(2)),
                pad == null || !pad.isNumber() ? -1 : pad.asInt());
    }

    @Override
    public ObjectNode toHfJson() {
        ObjectNode c = HfConfigFields.start(family());
        c.put("hidden_act", "gelu_new");
        c.put("hidden_size", hiddenSize);
        c.put("intermediate_size", intermediateSize);
        c.put("num_hidden_layers", numLayers);
        c.put("num_attention_heads", numHeads);
        c.put("num_key_value_heads", numKvHeads);
        if (headDim != hiddenSize / numHeads) {
            c.put("head_dim", headDim);
        }
        c.put("vocab_size", vocabSize);
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("layer_norm_eps", layerNormEps);
        c.put("partial_rotary_factor", partialRotaryFactor);
        HfConfigFields.putRope(c, ropeTheta, ropeScaling);
        c.put("qk_layernorm", false);
        c.put("embd_pdrop", 0.0);
        c.put("resid_pdrop", 0.0);
        c.put("attention_dropout", 0.0);
        return HfConfigFields.finish(c, this);
    }
}
