package dev.loku.core.train;

/**
 * The learning rate of each optimiser update. {@code update} is 0-based: the first call to the optimiser uses
 * {@code rate(0)}, exactly like a Hugging Face scheduler whose {@code step()} follows each optimiser step.
 */
@FunctionalInterface
public interface LearningRateSchedule {

    double rate(int update);

    /** The same rate for every update (the extraction-benchmark recipe has no schedule; docs/method.md §3.2). */
    static LearningRateSchedule constant(double learningRate) {
        return update -> learningRate;
    }

    /**
     * Hugging Face's "linear" schedule ({@code get_linear_schedule_with_warmup}, docs/method.md §3.1, §8.9):
     * {@code peak · u / max(1, warmup)} while {@code u < warmup}, then
     * {@code peak · max(0, (total − u) / max(1, total − warmup))}. With warm-up the very first update therefore runs
     * at rate 0, as it does in the reference runs.
     */
    static LearningRateSchedule linearWarmupDecay(double peak, int warmupSteps, int totalSteps) {
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new IllegalArgumentException("warm-up and total steps must be >= 0");
        }
        return update -> {
            if (update < warmupSteps) {
                return peak * update / Math.max(1, warmupSteps);
            }
            return peak * Math.max(0.0, (double) (totalSteps - update) / Math.max(1, totalSteps - warmupSteps));
        };
    }
}
