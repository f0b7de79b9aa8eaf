package dev.loku.core.engine;

/**
 * A full fine-tune: AdamW over every weight, one epoch of linear warm-up then linear decay to 0 (docs/method.md §3.1),
 * batches drawn from a seeded shuffle.
 */
public record FinetuneSettings(int epochs, double learningRate, int batchSize, long seed) {

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
    }
}
