package dev.loku.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * The shape of a decoder: everything its forward pass needs besides the weights. One record per family, each with
 * Hugging Face's field names; this interface is what the engine outside the model package may read.
 */
public sealed interface ModelConfig permits LlamaConfig, GptNeoConfig, PhiConfig {

    ModelFamily family();

    int vocabSize();

    int hiddenSize();

    int numLayers();

    /** The MLP's hidden width. */
    int intermediateSize();

    /** Query heads per layer. */
    int numHeads();

    /** Key/value heads per layer (fewer than {@link #numHeads} under grouped-query attention). */
    int numKvHeads();

    int headDim();

    /** The longest sequence the model is meant for (a hard limit for learned position embeddings). */
    int maxPositionEmbeddings();

    boolean tieWordEmbeddings();

    int bosTokenId();

    List<Integer> eosTokenIds();

    /** -1 when the model defines none. */
    int padTokenId();

    default int eosTokenId() {
        return eosTokenIds().isEmpty() ? -1 : eosTokenIds().get(0);
    }

    /**
     * The number of most recent key columns each layer's queries see (themselves included), 0 for a layer with
     * global attention: GPT-Neo's local layers, Mistral's and Qwen2's sliding windows.
     */
    int attentionWindow(int layer);

    /** Every parameter's Hugging Face name and shape, in a stable order (embeddings, layers, final norm, head). */
    Map<String, long[]> parameterShapes();

    /** Number of parameters (a tied head counted once). */
    default long parameterCount() {
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
     * Estimated floating-point operations of one forward pass over {@code batch × seq} tokens: two per multiply-add
     * of every projection and of the head, plus the two attention products over the full {@code seq × seq} square,
     * which the engine computes before masking. A backward pass costs about twice this.
     */
    default double forwardFlops(long batch, long seq) {
        double perToken = 0;
        for (Map.Entry<String, long[]> e : parameterShapes().entrySet()) {
            long[] s = e.getValue();
            boolean embedding = e.getKey().equals(embeddingName()) || e.getKey().endsWith("wpe.weight");
            if (s.length == 2 && !embedding) {
                perToken += 2.0 * s[0] * s[1];
            }
        }
        if (tieWordEmbeddings()) {
            perToken += 2.0 * vocabSize() * hiddenSize();
        }
        double attention = 4.0 * numLayers() * batch * seq * seq * numHeads() * headDim();
        return perToken * batch * seq + attention;
    }

    /** The token embedding's parameter name (the head's weight too when tied). */
    String embeddingName();

    /** A {@code config.json} transformers loads as this family (always in Hugging Face's rotary layout). */
    ObjectNode toHfJson();

    /**
     * Random-initialisation presets for benchmarks and tests: {@code llama-125m}, {@code llama-1b} and {@code tiny}
     * ({@link LlamaConfig#preset}), {@code gpt-neo-125m} ({@link GptNeoConfig#preset}).
     */
    static ModelConfig preset(String name) {
        if (name.toLowerCase(java.util.Locale.ROOT).startsWith("gpt-neo")) {
            return GptNeoConfig.preset(name);
        }
        try {
            return LlamaConfig.preset(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown model preset '" + name
                    + "'; choose llama-125m, llama-1b, llama-7b, llama-13b, gpt-neo-125m or tiny", e);
        }
    }

    /**
     * Reads a Hugging Face {@code config.json} of any supported family. Throws {@link IllegalArgumentException} with
     * one line naming the offending field (or, for another architecture, the supported ones).
     */
    static ModelConfig fromHfJson(JsonNode c) {
        return switch (ModelFamily.of(c)) {
            case LLAMA, MISTRAL, QWEN2 -> LlamaConfig.fromHfJson(c);
            case GPT_NEO -> GptNeoConfig.fromHfJson(c);
            case PHI -> PhiConfig.fromHfJson(c);
        };
    }
}
