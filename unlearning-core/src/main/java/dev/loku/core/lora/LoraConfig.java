package dev.loku.core.lora;

import dev.loku.core.model.LinearProjection;
import dev.loku.core.model.LlamaModel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which projections get LoRA adapters and how large they are (LOKU-SPEC §2.5): rank r, {@code lora_alpha}, dropout
 * on the adapter's input while training, and the projection kinds targeted. The scaling is PEFT's default
 * s = alpha / r (no rsLoRA); the reference runs use alpha = 2r (s = 2), dropout 0 and every projection ("all").
 *
 * @param rank r, at least 1
 * @param alpha {@code lora_alpha}, positive
 * @param dropout probability in [0, 1) of zeroing an input feature of the adapter while training
 * @param targets projection kinds ({@code q_proj} ... {@code down_proj}); the shorthands {@code all},
 *     {@code self_attn} and {@code mlp} expand to the kinds they name (§2.5)
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targets) {

    /** Every linear projection of a Llama decoder layer: LOKU-SPEC §2.5 {@code LoRA.targets=all}. */
    public static final List<String> ALL_TARGETS =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    /** {@code LoRA.targets=self_attn}. */
    public static final List<String> ATTENTION_TARGETS = List.of("q_proj", "k_proj", "v_proj", "o_proj");
    /** {@code LoRA.targets=mlp}. */
    public static final List<String> MLP_TARGETS = List.of("gate_proj", "up_proj", "down_proj");

    public LoraConfig {
        if (rank < 1) {
            throw new IllegalArgumentException("LoRA rank must be at least 1, got " + rank);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("LoRA alpha must be a positive number, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        targets = expand(targets);
    }

    /** alpha = 2r, dropout 0, every projection: the reference's settings (§2.5). */
    public static LoraConfig defaults(int rank) {
        return new LoraConfig(rank, 2.0 * rank, 0.0, ALL_TARGETS);
    }

    /** s = alpha / r, the factor on B·A (PEFT's default scaling). */
    public double scaling() {
        return alpha / rank;
    }

    /** The model's projections whose kind is targeted, layer by layer in the model's order. */
    public List<LinearProjection> select(LlamaModel model) {
        List<LinearProjection> out = new ArrayList<>();
        for (LinearProjection p : model.linearProjections()) {
            if (targets.contains(p.kind())) {
                out.add(p);
            }
        }
        return out;
    }

    /** A copy with another rank, alpha kept. */
    public LoraConfig withRank(int newRank) {
        return new LoraConfig(newRank, alpha, dropout, targets);
    }

    private static List<String> expand(List<String> targets) {
        if (targets == null || targets.isEmpty()) {
            throw new IllegalArgumentException("LoRA needs at least one target module kind");
        }
        Set<String> kinds = new LinkedHashSet<>();
        for (String t : targets) {
            String name = t == null ? "" : t.trim();
            switch (name) {
                case "all", "all-linear" -> kinds.addAll(ALL_TARGETS);
                case "self_attn" -> kinds.addAll(ATTENTION_TARGETS);
                case "mlp" -> kinds.addAll(MLP_TARGETS);
                default -> {
                    if (!ALL_TARGETS.contains(name)) {
                        throw new IllegalArgumentException("unknown LoRA target '" + name + "'; use all, self_attn,"
                                + " mlp or any of " + String.join(", ", ALL_TARGETS));
                    }
                    kinds.add(name);
                }
            }
        }
        // Canonical order, so equal selections compare equal and adapter_config.json is stable.
        List<String> ordered = new ArrayList<>();
        for (String k : ALL_TARGETS) {
            if (kinds.contains(k)) {
                ordered.add(k);
            }
        }
        return List.copyOf(ordered);
    }
}
