package dev.loku.core.train;

/**
 * AdamW's hyper-parameters (learning rate aside, which a {@link LearningRateSchedule} supplies each step).
 * Weight decay is decoupled, as in PyTorch's AdamW and HF's paged AdamW (docs/method.md §3.1); with weight decay 0
 * this is plain Adam, which is what the extraction-benchmark recipe uses (§3.2).
 */
public record AdamWConfig(double beta1, double beta2, double epsilon, double weightDecay) {

    public AdamWConfig {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Adam betas must lie in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(epsilon > 0)) {
            throw new IllegalArgumentException("Adam epsilon must be positive, got " + epsilon);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
    }

    /** PyTorch's defaults (0.9, 0.999, 1e-8) with the given weight decay; TOFU unlearning uses 0.01 (§3.1). */
    public static AdamWConfig torchDefaults(double weightDecay) {
        return new AdamWConfig(0.9, 0.999, 1e-8, weightDecay);
    }
}
