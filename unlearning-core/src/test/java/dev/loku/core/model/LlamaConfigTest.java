package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class LlamaConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    // The published config.json files of two real checkpoints.
    static final String TINYLLAMA = "{\"architectures\":[\"LlamaForCausalLM\"],\"attention_bias\":false,"
            + "\"bos_token_id\":1,\"eos_token_id\":2,\"hidden_act\":\"silu\",\"hidden_size\":2048,"
            + "\"initializer_range\":0.02,\"intermediate_size\":5632,\"max_position_embeddings\":2048,"
            + "\"model_type\":\"llama\",\"num_attention_heads\":32,\"num_hidden_layers\":22,\"num_key_value_heads\":4,"
            + "\"pretraining_tp\":1,\"rms_norm_eps\":1e-05,\"rope_scaling\":null,\"rope_theta\":10000.0,"
            + "\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\",\"transformers_version\":\"4.35.0\","
            + "\"use_cache\":true,\"vocab_size\":32000}";
    static final String LLAMA32_1B = "{\"architectures\":[\"LlamaForCausalLM\"],\"attention_bias\":false,"
            + "\"attention_dropout\":0.0,\"bos_token_id\":128000,\"eos_token_id\":[128001,128008,128009],"
            + "\"head_dim\":64,\"hidden_act\":\"silu\",\"hidden_size\":2048,\"initializer_range\":0.02,"
            + "\"intermediate_size\":8192,\"max_position_embeddings\":131072,\"mlp_bias\":false,"
            + "\"model_type\":\"llama\",\"num_attention_heads\":32,\"num_hidden_layers\":16,\"num_key_value_heads\":8,"
            + "\"pretraining_tp\":1,\"rms_norm_eps\":1e-05,\"rope_scaling\":{\"factor\":32.0,\"high_freq_factor\":4.0,"
            + "\"low_freq_factor\":1.0,\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"},"
            + "\"rope_theta\":500000.0,\"tie_word_embeddings\":true,\"torch_dtype\":\"bfloat16\","
            + "\"use_cache\":true,\"vocab_size\":128256}";

    @Test
    void readsRealConfigsAndCountsTheirPublishedParameters() throws Exception {
        LlamaConfig tiny = LlamaConfig.fromHfJson(JSON.readTree(TINYLLAMA));
        assertEquals(4, tiny.numKvHeads());
        assertEquals(64, tiny.headDim());
        assertFalse(tiny.tieWordEmbeddings());
        assertNull(tiny.ropeScaling());
        assertEquals(RotaryLayout.HALF, tiny.rotaryLayout());
        assertEquals(1_100_048_384L, tiny.parameterCount()); // TinyLlama-1.1B

        LlamaConfig l32 = LlamaConfig.fromHfJson(JSON.readTree(LLAMA32_1B));
        assertEquals(List.of(128001, 128008, 128009), l32.eosTokenIds());
        assertEquals(128000, l32.bosTokenId());
        assertEquals(500000.0, l32.ropeTheta());
        assertEquals("llama3", l32.ropeScaling().type());
        assertEquals(32.0, l32.ropeScaling().factor());
        assertEquals(8192, l32.ropeScaling().originalMaxPositionEmbeddings());
        assertTrue(l32.tieWordEmbeddings());
        assertEquals(1_235_814_400L, l32.parameterCount()); // Llama-3.2-1B
    }

    @Test
    void writesWhatItReads() throws Exception {
        for (String json : List.of(TINYLLAMA, LLAMA32_1B)) {
            LlamaConfig c = LlamaConfig.fromHfJson(JSON.readTree(json));
            assertEquals(c, LlamaConfig.fromHfJson(c.toHfJson()));
        }
    }

    @Test
    void presetsHaveTheAdvertisedSizes() {
        assertEquals(123.7e6, LlamaConfig.preset("llama-125m").parameterCount(), 0.1e6);
        assertEquals(1_100_048_384L, LlamaConfig.preset("llama-1b").parameterCount());
        // Llama-2-7B's and -13B's parameter counts as transformers reports them.
        assertEquals(6_738_415_616L, LlamaConfig.preset("llama-7b").parameterCount());
        assertEquals(13_015_864_320L, LlamaConfig.preset("llama-13b").parameterCount());
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.preset("llama-70b"));
    }

    @Test
    void rejectsWhatTheRuntimeCannotRun() throws Exception {
        for (String[] change : new String[][] {{"hidden_act", "\"gelu\""}, {"partial_rotary_factor", "0.5"},
            {"architectures", "[\"GPT2LMHeadModel\"]"}}) {
            ObjectNode c = (ObjectNode) JSON.readTree(TINYLLAMA);
            c.set(change[0], JSON.readTree(change[1]));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHfJson(c));
            assertTrue(e.getMessage().contains(change[0].equals("architectures") ? "GPT2LMHeadModel" : change[0]),
                    e.getMessage());
        }
        ObjectNode c = (ObjectNode) JSON.readTree(TINYLLAMA);
        c.remove("hidden_size");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHfJson(c)).getMessage()
                .contains("hidden_size"));
        ObjectNode dyn = (ObjectNode) JSON.readTree(TINYLLAMA);
        dyn.set("rope_scaling", JSON.readTree("{\"type\":\"dynamic\",\"factor\":2.0}"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHfJson(dyn)).getMessage()
                .contains("dynamic"));
    }

    @Test
    void readsTheLlamaVariants() throws Exception {
        ObjectNode biased = (ObjectNode) JSON.readTree(TINYLLAMA);
        biased.put("attention_bias", true);
        biased.put("mlp_bias", true);
        LlamaConfig b = LlamaConfig.fromHfJson(biased);
        assertTrue(b.qkvBias() && b.outputBias() && b.mlpBias());
        assertTrue(b.parameterShapes().containsKey("model.layers.0.self_attn.o_proj.bias"));
        assertTrue(b.parameterShapes().containsKey("model.layers.21.mlp.down_proj.bias"));
        assertEquals(b, LlamaConfig.fromHfJson(b.toHfJson()));

        // transformers 5 writes the rope settings into rope_parameters.
        ObjectNode v5 = (ObjectNode) JSON.readTree(LLAMA32_1B);
        ObjectNode rp = (ObjectNode) v5.remove("rope_scaling");
        rp.set("rope_theta", v5.remove("rope_theta"));
        v5.set("rope_parameters", rp);
        assertEquals(LlamaConfig.fromHfJson(JSON.readTree(LLAMA32_1B)), LlamaConfig.fromHfJson(v5));
    }

    @Test
    void sameSeedSameWeights() {
        LlamaConfig cfg = LlamaConfig.preset("tiny");
        try (LlamaModel a = LlamaModel.randomInit(cfg, null, 5, Device.cpu());
             LlamaModel b = LlamaModel.randomInit(cfg, null, 5, Device.cpu());
             LlamaModel c = LlamaModel.randomInit(cfg, null, 6, Device.cpu())) {
            String name = "model.layers.1.mlp.gate_proj.weight";
            assertTrue(a.parameter(name).contentEquals(b.parameter(name)));
            assertFalse(a.parameter(name).contentEquals(c.parameter(name)));
            assertEquals(0.02, a.parameter(name).toType(ai.djl.ndarray.types.DataType.FLOAT64, false)
                    .pow(2).mean().sqrt().getDouble(), 0.002);
        }
    }
}
