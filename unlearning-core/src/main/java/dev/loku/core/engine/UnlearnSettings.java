package dev.loku.core.engine;

import dev.loku.core.lora.LoraConfig;
import dev.loku.core.objective.UnlearningMethod;
import java.util.List;
import java.util.Objects;

/**
 * How to unlearn (docs/method.md §3, §4).
 *
 * @param method the objective (§4)
 * @param loraRank LoRA rank r; 0 trains the full weights instead of adapters
 * @param loraAlpha LoRA alpha; the adapter's update is scaled by alpha / r (PEFT convention, §2.4)
 * @param targets projection kinds that get adapters, e.g. {@code q_proj}, {@code down_proj}, or the shorthands
 *     {@code all}, {@code self_attn}, {@code mlp} and {@code peft}, which each model family expands
 *     ({@link LoraConfig})
 * @param fila initialise the adapters from Fisher importance (FILA, §2); needs loraRank &gt; 0
 * @param learningRate the constant Adam learning rate
 * @param maxEpochs the epoch budget; training stops earlier once the stop rule holds (§3.2)
 * @param batchSize sequences per forward pass; the epoch's micro-batches are accumulated into one step (§3.2)
 * @param seed drives retain sampling and any random adapter initialisation
 * @param refusals the refusal answers the idk method trains the forget questions towards (one is drawn per question
 *     with the seed); empty for every other method
 */
public record UnlearnSettings(UnlearningMethod method, int loraRank, double loraAlpha, List<String> targets, boolean fila,
                              double learningRate, int maxEpochs, int batchSize, long seed, List<String> refusals) {

    /** Every linear projection of every layer (docs/method.md §2.5 "all"); lm_head and embeddings are never adapted. */
    public static final List<String> ALL_TARGETS = LoraConfig.ALL_TARGETS;

    /** Tuned on stories260K; see docs/engine.md for the measurements behind these values. */
    static final int DEFAULT_RANK = 8;
    static final double DEFAULT_LEARNING_RATE = 1e-3;
    static final int DEFAULT_MAX_EPOCHS = 30;
    static final int DEFAULT_BATCH_SIZE = 32;
    static final long DEFAULT_SEED = 42;

    public UnlearnSettings {
        Objects.requireNonNull(method, "the unlearning method");
        if (loraRank < 0) {
            throw new IllegalArgumentException("the LoRA rank must be 0 (full weights) or positive, got " + loraRank);
        }
        if (!(loraAlpha > 0)) {
            throw new IllegalArgumentException("LoRA alpha must be positive, got " + loraAlpha);
        }
        // LoraConfig owns the target vocabulary: it validates the names here and expands them per model (§2.5).
        targets = new LoraConfig(1, 1.0, 0.0, targets).targets();
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("the learning rate must be positive, got " + learningRate);
        }
        if (maxEpochs < 1) {
            throw new IllegalArgumentException("the epoch budget must be at least 1, got " + maxEpochs);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("the batch size must be at least 1, got " + batchSize);
        }
        refusals = refusals == null ? List.of() : List.copyOf(refusals);
    }

    /**
     * LoKU as the paper runs it: inverted hinge loss plus retain NLL (§1.3), FILA-initialised LoRA on every projection
     * with alpha = 2r (§2.5), and the learning rate, rank and epoch budget tuned for stories260K-scale models.
     */
    public static UnlearnSettings loku() {
        return new UnlearnSettings(UnlearningMethod.IHL, DEFAULT_RANK, 2.0 * DEFAULT_RANK, ALL_TARGETS, true, DEFAULT_LEARNING_RATE,
                DEFAULT_MAX_EPOCHS, DEFAULT_BATCH_SIZE, DEFAULT_SEED, List.of());
    }

    public UnlearnSettings withMethod(UnlearningMethod m) {
        return new UnlearnSettings(m, loraRank, loraAlpha, targets, fila, learningRate, maxEpochs, batchSize, seed,
                refusals);
    }

    /** Also sets alpha = 2r (the paper's choice, §2.5) for r &gt; 0; r = 0 switches FILA off (full weights). */
    public UnlearnSettings withLoraRank(int r) {
        return new UnlearnSettings(method, r, r > 0 ? 2.0 * r : loraAlpha, targets, fila && r > 0, learningRate,
                maxEpochs, batchSize, seed,
                refusals);
    }

    public UnlearnSettings withLoraAlpha(double alpha) {
        return new UnlearnSettings(method, loraRank, alpha, targets, fila, learningRate, maxEpochs, batchSize, seed,
                refusals);
    }

    public UnlearnSettings withTargets(List<String> t) {
        return new UnlearnSettings(method, loraRank, loraAlpha, t, fila, learningRate, maxEpochs, batchSize, seed,
                refusals);
    }

    public UnlearnSettings withFila(boolean f) {
        return new UnlearnSettings(method, loraRank, loraAlpha, targets, f, learningRate, maxEpochs, batchSize, seed,
                refusals);
    }

    public UnlearnSettings withLearningRate(double lr) {
        return new UnlearnSettings(method, loraRank, loraAlpha, targets, fila, lr, maxEpochs, batchSize, seed,
                refusals);
    }

    public UnlearnSettings withMaxEpochs(int n) {
        return new UnlearnSettings(method, loraRank, loraAlpha, targets, fila, learningRate, n, batchSize, seed,
                refusals);
    }

    public UnlearnSettings withBatchSize(int b) {
        return new UnlearnSettings(method, loraRank, loraAlpha, targets, fila, learningRate, maxEpochs, b, seed,
                refusals);
    }

    public UnlearnSettings withSeed(long s) {
        return new UnlearnSettings(method, loraRank, loraAlpha, targets, fila, learningRate, maxEpochs, batchSize, s, refusals);
    }

    public UnlearnSettings withRefusals(List<String> r) {
        return new UnlearnSettings(method, loraRank, loraAlpha, targets, fila, learningRate, maxEpochs, batchSize, seed,
                r);
    }

    /** True when adapters are trained rather than the full weights. */
    public boolean usesLora() {
        return loraRank > 0;
    }

    /**
     * Checks the combinations the record itself allows so that {@code with...} calls can be chained in any order.
     *
     * @throws IllegalArgumentException when FILA is asked for without adapters
     */
    public void validate() {
        if (fila && loraRank == 0) {
            throw new IllegalArgumentException("FILA initialises LoRA adapters, so it needs a LoRA rank above 0"
                    + " (rank 0 trains the full weights)");
        }
        if (method.objective().needs().refusalAnswers() && refusals.isEmpty()) {
            throw new IllegalArgumentException("the " + method.id() + " method trains the forget questions towards"
                    + " refusal answers, but none were given");
        }
    }
}
