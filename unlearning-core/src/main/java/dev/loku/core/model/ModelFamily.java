package dev.loku.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The decoder families the engine runs, each named as Hugging Face names it: the {@code architectures} entry and
 * {@code model_type} of its {@code config.json}. A family declares its linear projections by kind (what LoRA, FILA
 * and the Fisher pass target; the head and embeddings are never among them) and PEFT's default LoRA targets for it
 * ({@code TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING} in PEFT 0.21).
 */
public enum ModelFamily {
    /** Llama 2/3 (also TinyLlama, SmolLM, llama2.c checkpoints), with optional biases and Llama-3 rope scaling. */
    LLAMA("LlamaForCausalLM", "llama",
            List.of("q_proj", "k_proj", "v_proj", "o_proj"), List.of("gate_proj", "up_proj", "down_proj"),
            List.of("q_proj", "v_proj")),
    /** Mistral: the Llama block with grouped-query attention and a sliding window. */
    MISTRAL("MistralForCausalLM", "mistral",
            List.of("q_proj", "k_proj", "v_proj", "o_proj"), List.of("gate_proj", "up_proj", "down_proj"),
            List.of("q_proj", "v_proj")),
    /** Qwen2: the Llama block with q/k/v biases, an untied head and optional sliding-window layers. */
    QWEN2("Qwen2ForCausalLM", "qwen2",
            List.of("q_proj", "k_proj", "v_proj", "o_proj"), List.of("gate_proj", "up_proj", "down_proj"),
            List.of("q_proj", "v_proj")),
    /** GPT-Neo (125M/1.3B/2.7B): learned positions, alternating global and local attention, a GELU MLP. */
    GPT_NEO("GPTNeoForCausalLM", "gpt_neo",
            List.of("q_proj", "k_proj", "v_proj", "out_proj"), List.of("c_fc", "c_proj"),
            List.of("q_proj", "v_proj")),
    /** Phi-1.5/Phi-2: partial rotary, attention and MLP in parallel from one LayerNorm, biases everywhere. */
    PHI("PhiForCausalLM", "phi",
            List.of("q_proj", "k_proj", "v_proj", "dense"), List.of("fc1", "fc2"),
            List.of("q_proj", "v_proj", "fc1", "fc2"));

    private final String architecture;
    private final String modelType;
    private final List<String> attentionKinds;
    private final List<String> mlpKinds;
    private final List<String> peftDefaultTargets;

    ModelFamily(String architecture, String modelType, List<String> attentionKinds, List<String> mlpKinds,
                List<String> peftDefaultTargets) {
        this.architecture = architecture;
        this.modelType = modelType;
        this.attentionKinds = attentionKinds;
        this.mlpKinds = mlpKinds;
        this.peftDefaultTargets = peftDefaultTargets;
    }

    /** The {@code architectures} entry transformers writes, e.g. {@code GPTNeoForCausalLM}. */
    public String architecture() {
        return architecture;
    }

    /** The {@code model_type}, e.g. {@code gpt_neo}. */
    public String modelType() {
        return modelType;
    }

    /** The attention block's projections (LoRA's {@code self_attn} shorthand). */
    public List<String> attentionKinds() {
        return attentionKinds;
    }

    /** The MLP's projections (LoRA's {@code mlp} shorthand). */
    public List<String> mlpKinds() {
        return mlpKinds;
    }

    /** Every linear projection of a layer, attention first: LoKU's default targets (docs/method.md §2.5 "all"). */
    public List<String> projectionKinds() {
        List<String> all = new ArrayList<>(attentionKinds);
        all.addAll(mlpKinds);
        return List.copyOf(all);
    }

    /** What PEFT adapts for this family when {@code target_modules} is left unset. */
    public List<String> peftDefaultTargets() {
        return peftDefaultTargets;
    }

    /** Projection kinds of any family, for checking a target name before a model is loaded. */
    public static Set<String> anyProjectionKind() {
        Set<String> kinds = new LinkedHashSet<>();
        for (ModelFamily f : values()) {
            kinds.addAll(f.projectionKinds());
        }
        return kinds;
    }

    /**
     * The family of a Hugging Face {@code config.json}: its {@code architectures} entries first, then its
     * {@code model_type}. Anything else is refused in one line that lists what is supported.
     */
    public static ModelFamily of(JsonNode config) {
        List<String> archs = new ArrayList<>();
        for (JsonNode a : config.path("architectures")) {
            archs.add(a.asText());
        }
        for (String a : archs) {
            for (ModelFamily f : values()) {
                if (f.architecture.equals(a)) {
                    return f;
                }
            }
        }
        String modelType = config.path("model_type").asText("");
        if (archs.isEmpty()) {
            for (ModelFamily f : values()) {
                if (f.modelType.equals(modelType)) {
                    return f;
                }
            }
        }
        throw new IllegalArgumentException("architecture " + (archs.isEmpty() ? "(none)" : String.join(", ", archs))
                + " with model_type '" + modelType + "' is not supported; supported: " + supported());
    }

    /** {@code LlamaForCausalLM (llama), MistralForCausalLM (mistral), ...}. */
    public static String supported() {
        List<String> names = new ArrayList<>();
        for (ModelFamily f : values()) {
            names.add(f.architecture + " (" + f.modelType + ")");
        }
        return String.join(", ", names);
    }
}
