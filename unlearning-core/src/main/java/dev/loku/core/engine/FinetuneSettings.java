package dev.loku.core.engine;

/**
 * A full fine-tune: AdamW over every weight, one epoch of linear warm-up then linear decay to 0 (docs/method.md §3.1),
 * batches drawn from a seeded shuffle.
 *
 * <p>{@code anchorWeight} weighs the optional anchor term (see {@link UnlearningEngine#finetune(java.nio.file.Path,
 * java.nio.file.Path, java.nio.file.Path, FinetuneSettings, java.nio.file.Path, java.util.function.IntConsumer)}):
 * the KL divergence from the starting model on anchor texts, added to every step so that learning the new records
 * does not erase what the model knew. 0 (the four-argument constructor) trains on the records alone.
 */
public record FinetuneSettings(int epochs, double learningRate, int batchSize, long seed, double anchorWeight) {

    public FinetuneSettings {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("the learning rate must be positive, got " + learningRate);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("the batch size must be at least 1, got " + batchSize);
        }
        if (!(anchorWeight >= 0) || Double.isInfinite(anchorWeight)) {
            throw new IllegalArgumentException("the anchor weight must be 0 or positive, got " + anchorWeight);
        }
    }

    /** Records alone, no anchor term. */
    public FinetuneSettings(int epochs, double learningRate, int batchSize, long seed) {
        this(epochs, learningRate, batchSize, seed, 0);
    }
}
