package dev.loku.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Reading and writing the fields every family's {@code config.json} shares, in both the layout transformers 5
 * writes ({@code rope_parameters}) and the older one ({@code rope_theta}, {@code rope_scaling},
 * {@code partial_rotary_factor} at the top level), which transformers 5 still reads.
 */
final class HfConfigFields {
    private HfConfigFields() {}

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    static int requiredInt(JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException("'" + key + "' is missing or not a number");
        }
        return v.asInt();
    }

    static int intOr(JsonNode c, String key, int fallback) {
        JsonNode v = c.get(key);
        return v != null && v.isNumber() ? v.asInt() : fallback;
    }

    static double doubleOr(JsonNode c, String key, double fallback) {
        JsonNode v = c.get(key);
        return v != null && v.isNumber() ? v.asDouble() : fallback;
    }

    /** {@code eos_token_id}: a number or a list; {@code fallback} when absent or null. */
    static List<Integer> eosIds(JsonNode c, List<Integer> fallback) {
        JsonNode eos = c.get("eos_token_id");
        if (eos == null || eos.isNull()) {
            return fallback;
        }
        if (eos.isArray()) {
            Integer[] ids = new Integer[eos.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = eos.get(i).asInt();
            }
            return List.of(ids);
        }
        return List.of(eos.asInt());
    }

    static void putTokenIds(ObjectNode c, int bos, List<Integer> eos, int pad) {
        if (bos >= 0) {
            c.put("bos_token_id", bos);
        } else {
            c.putNull("bos_token_id");
        }
        if (eos.isEmpty()) {
            c.putNull("eos_token_id");
        } else if (eos.size() == 1) {
            c.put("eos_token_id", eos.get(0));
        } else {
            ArrayNode a = c.putArray("eos_token_id");
            eos.forEach(a::add);
        }
        if (pad >= 0) {
            c.put("pad_token_id", pad);
        } else {
            c.putNull("pad_token_id");
        }
    }

    /** A new {@code config.json} object naming the family, as transformers writes it. */
    static ObjectNode start(ModelFamily family) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add(family.architecture());
        c.put("model_type", family.modelType());
        return c;
    }

    /** The fields every family's {@code config.json} ends with: head tying, token ids, dtype. */
    static ObjectNode finish(ObjectNode c, ModelConfig config) {
        c.put("initializer_range", 0.02);
        c.put("tie_word_embeddings", config.tieWordEmbeddings());
        putTokenIds(c, config.bosTokenId(), config.eosTokenIds(), config.padTokenId());
        c.put("torch_dtype", "float32");
        c.put("use_cache", true);
        return c;
    }

    /** The rope settings object: {@code rope_parameters} when present, else the config itself (older layout). */
    private static JsonNode rope(JsonNode c) {
        JsonNode rp = c.get("rope_parameters");
        return rp != null && rp.isObject() ? rp : c;
    }

    static double ropeTheta(JsonNode c, double fallback) {
        JsonNode rp = rope(c);
        if (rp.path("rope_theta").isNumber()) {
            return rp.get("rope_theta").asDouble();
        }
        return doubleOr(c, "rope_theta", fallback);
    }

    static double partialRotaryFactor(JsonNode c) {
        JsonNode rp = rope(c);
        if (rp.path("partial_rotary_factor").isNumber()) {
            return rp.get("partial_rotary_factor").asDouble();
        }
        return doubleOr(c, "partial_rotary_factor", 1.0);
    }

    /**
     * Frequency scaling from {@code rope_parameters} (its {@code rope_type}) or the older {@code rope_scaling}; null
     * for the default (unscaled) rope. Kinds other than linear and llama3 are refused by {@link RopeScaling}.
     */
    static RopeScaling ropeScaling(JsonNode c, int maxPositionEmbeddings) {
        JsonNode rs = c.get("rope_parameters");
        if (rs == null || !rs.isObject()) {
            rs = c.get("rope_scaling");
        }
        if (rs == null || rs.isNull() || !rs.isObject()) {
            return null;
        }
        String type = rs.has("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("default");
        if ("default".equals(type)) {
            return null;
        }
        return new RopeScaling(type, rs.path("factor").asDouble(1.0), rs.path("low_freq_factor").asDouble(0),
                rs.path("high_freq_factor").asDouble(0),
                rs.path("original_max_position_embeddings").asInt(maxPositionEmbeddings));
    }

    /** Writes the rope fields in the older layout, which transformers 4 and 5 both read. */
    static void putRope(ObjectNode c, double theta, RopeScaling scaling) {
        c.put("rope_theta", theta);
        if (scaling == null) {
            c.putNull("rope_scaling");
            return;
        }
        ObjectNode rs = c.putObject("rope_scaling");
        rs.put("rope_type", scaling.type());
        rs.put("factor", scaling.factor());
        if ("llama3".equals(scaling.type())) {
            rs.put("low_freq_factor", scaling.lowFreqFactor());
            rs.put("high_freq_factor", scaling.highFreqFactor());
            rs.put("original_max_position_embeddings", scaling.originalMaxPositionEmbeddings());
        }
    }

    /** {@code hidden_act} / {@code activation_function}: the tanh GELU ({@code gelu_new}) is the one supported. */
    static void requireGeluNew(String key, String act) {
        require("gelu_new".equals(act) || "gelu_pytorch_tanh".equals(act),
                key + " '" + act + "' is not supported (gelu_new only)");
    }
}
