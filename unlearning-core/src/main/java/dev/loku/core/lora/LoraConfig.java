package dev.loku.core.lora;

import dev.loku.core.model.CausalLm;
import dev.loku.core.model.LinearProjection;
import dev.loku.core.model.ModelFamily;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which projections get LoRA adapters and how large they are (docs/method.md §2.5): rank r, {@code lora_alpha}, dropout
 * on the adapter's input while training, and the projection kinds targeted. The scaling is PEFT's default
 * s = alpha / r (no rsLoRA); the reference runs use alpha = 2r (s = 2), dropout 0 and every projection ("all").
 *
 * <p>Target names are a family's projection kinds ({@link ModelFamily#projectionKinds()}: {@code q_proj} ...
 * {@code down_proj} for Llama, {@code out_proj}, {@code c_fc}, {@code c_proj} for GPT-Neo, {@code dense},
 * {@code fc1}, {@code fc2} for Phi) or shorthands that each family expands: {@code all} (every projection, the head
 * excluded; {@code all-linear} is PEFT's spelling), {@code self_attn}, {@code mlp}, and {@code peft} (PEFT's default
 * targets for the family). They are resolved against a model by {@link #kinds} and {@link #select}.
 *
 * @param rank r, at least 1
 * @param alpha {@code lora_alpha}, positive
 * @param dropout probability in [0, 1) of zeroing an input feature of the adapter while training
 * @param targets projection kinds and shorthands, without duplicates, shorthands first, kinds in a fixed order
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targets) {

    /** docs/method.md §2.5 {@code LoRA.targets=all}: every linear projection of every layer, whatever the family. */
    public static final List<String> ALL_TARGETS = List.of("all");

    private static final List<String> SHORTHANDS = List.of("all", "all-linear", "self_attn", "mlp", "peft");

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
        targets = normalise(targets);
    }

    /** alpha = 2r, dropout 0, every projection: the reference's settings (§2.5). */
    public static LoraConfig defaults(int rank) {
        return new LoraConfig(rank, 2.0 * rank, 0.0, ALL_TARGETS);
    }

    /** s = alpha / r, the factor on B·A (PEFT's default scaling). */
    public double scaling() {
        return alpha / rank;
    }

    /**
     * The targeted kinds of {@code family}, in the family's order.
     *
     * @throws IllegalArgumentException when a target names a projection the family does not have
     */
    public List<String> kinds(ModelFamily family) {
        Set<String> kinds = new LinkedHashSet<>();
        for (String t : targets) {
            switch (t) {
                case "all", "all-linear" -> kinds.addAll(family.projectionKinds());
                case "self_attn" -> kinds.addAll(family.attentionKinds());
                case "mlp" -> kinds.addAll(family.mlpKinds());
                case "peft" -> kinds.addAll(family.peftDefaultTargets());
                default -> {
                    if (!family.projectionKinds().contains(t)) {
                        throw new IllegalArgumentException("LoRA target '" + t + "' is not a projection of "
                                + family.modelType() + " models (" + String.join(", ", family.projectionKinds())
                                + ")");
                    }
                    kinds.add(t);
                }
            }
        }
        List<String> ordered = new ArrayList<>();
        for (String k : family.projectionKinds()) {
            if (kinds.contains(k)) {
                ordered.add(k);
            }
        }
        return List.copyOf(ordered);
    }

    /** The model's projections whose kind is targeted, layer by layer in the model's order. */
    public List<LinearProjection> select(CausalLm model) {
        List<String> kinds = kinds(model.family());
        List<LinearProjection> out = new ArrayList<>();
        for (LinearProjection p : model.linearProjections()) {
            if (kinds.contains(p.kind())) {
                out.add(p);
            }
        }
        return out;
    }

    /** A copy with another rank, alpha kept. */
    public LoraConfig withRank(int newRank) {
        return new LoraConfig(newRank, alpha, dropout, targets);
    }

    private static List<String> normalise(List<String> targets) {
        if (targets == null || targets.isEmpty()) {
            throw new IllegalArgumentException("LoRA needs at least one target module kind");
        }
        Set<String> known = ModelFamily.anyProjectionKind();
        Set<String> names = new LinkedHashSet<>();
        for (String t : targets) {
            String name = t == null ? "" : t.trim();
            if (!SHORTHANDS.contains(name) && !known.contains(name)) {
                throw new IllegalArgumentException("unknown LoRA target '" + name + "'; use "
                        + String.join(", ", SHORTHANDS) + " or a projection kind (" + String.join(", ", known)
                        + ")");
            }
            names.add(name);
        }
        // Canonical order, so equal selections compare equal.
        List<String> ordered = new ArrayList<>();
        for (String s : SHORTHANDS) {
            if (names.contains(s)) {
                ordered.add(s);
            }
        }
        for (String k : known) {
            if (names.contains(k)) {
                ordered.add(k);
            }
        }
        return List.copyOf(ordered);
    }
}
