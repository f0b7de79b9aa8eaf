package dev.loku.core.train;

/**
 * How updates are made: optimiser, peak learning rate, batching and schedule shape. The two presets are the ones
 * docs/method.md §3 describes; every field stays configurable because LoKU's own values for the extraction benchmark are
 * unverified (§3.2).
 *
 * @param adam optimiser hyper-parameters
 * @param learningRate the peak (or constant) learning rate
 * @param microBatchSize sequences per forward pass
 * @param accumulationSteps micro-batches per optimiser step (ignored when {@code oneStepPerEpoch})
 * @param warmupEpochs linear warm-up length in epochs, then linear decay to 0; negative means a constant rate
 * @param oneStepPerEpoch the whole forget set is one effective batch: exactly one optimiser step per epoch
 */
public record TrainingRecipe(
        AdamWConfig adam,
        double learningRate,
        int microBatchSize,
        int accumulationSteps,
        double warmupEpochs,
        boolean oneStepPerEpoch) {

    /** Effective batch of the TOFU runs: 2 × 16 × 1 GPU (§3.1). */
    public static final int TOFU_EFFECTIVE_BATCH = 32;

    public TrainingRecipe {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        }
        if (microBatchSize < 1 || accumulationSteps < 1) {
            throw new IllegalArgumentException("micro-batch size and accumulation steps must be >= 1");
        }
    }

    /**
     * TOFU unlearning (§3.1): AdamW (0.9, 0.999, 1e-8), weight decay 0.01, micro-batch 2 × 16 accumulation,
     * one epoch of linear warm-up then linear decay to 0. The reference LoRA learning rates are 2e-4 (Phi-1.5)
     * and 1e-4 (Llama-2-7B).
     */
    public static TrainingRecipe tofu(double learningRate) {
        return new TrainingRecipe(AdamWConfig.torchDefaults(0.01), learningRate, 2, 16, 1.0, false);
    }

    /**
     * Jang et al.'s extraction-benchmark recipe (§3.2): Adam (0.9, 0.98), lr 5e-5, no weight decay, no schedule,
     * one optimiser step per epoch over the whole forget set. {@code microBatchSize} only bounds memory: the
     * micro-batches of an epoch are accumulated into that single step. Accumulation averages micro-batch means, so
     * it equals the whole-batch token mean when the micro-batches hold equally many label tokens (e.g. full-length
     * windows and a micro-batch size dividing the forget-set size).
     */
    public static TrainingRecipe extractionBenchmark(int microBatchSize) {
        return new TrainingRecipe(new AdamWConfig(0.9, 0.98, 1e-8, 0.0), 5e-5, microBatchSize, 1, -1, true);
    }

    /** Micro-batches that feed one optimiser step, for a forget set of {@code forgetSetSize} sequences. */
    public int microBatchesPerStep(int forgetSetSize) {
        if (oneStepPerEpoch) {
            return ceilDiv(forgetSetSize, microBatchSize);
        }
        return accumulationSteps;
    }

    /**
     * Optimiser steps per epoch. Like the HF Trainer with {@code max_steps} set, a partial effective batch at the
     * end of an epoch does not make a step of its own: ⌊|D_f| / (micro · accumulation)⌋, at least 1 (§3.1).
     */
    public int stepsPerEpoch(int forgetSetSize) {
        if (oneStepPerEpoch) {
            return 1;
        }
        return Math.max(1, forgetSetSize / (microBatchSize * accumulationSteps));
    }

    /**
     * Total optimiser steps: ⌊epochs · |D_f| / effective batch⌋ as the reference's {@code max_steps}, at least 1;
     * or simply {@code epochs} with one step per epoch.
     */
    public int totalSteps(int forgetSetSize, int epochs) {
        if (oneStepPerEpoch) {
            return epochs;
        }
        return Math.max(1, (int) ((long) epochs * forgetSetSize / ((long) microBatchSize * accumulationSteps)));
    }

    /** The learning-rate schedule for a run over {@code epochs} epochs of {@code forgetSetSize} sequences. */
    public LearningRateSchedule schedule(int forgetSetSize, int epochs) {
        if (warmupEpochs < 0) {
            return LearningRateSchedule.constant(learningRate);
        }
        // The reference sets warmup_steps = max(1, steps_per_epoch) for one warm-up epoch (§3.1, §8.9).
        int warmup = warmupEpochs == 0 ? 0
                : Math.max(1, (int) Math.round(warmupEpochs * stepsPerEpoch(forgetSetSize)));
        return LearningRateSchedule.linearWarmupDecay(learningRate, warmup, totalSteps(forgetSetSize, epochs));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
