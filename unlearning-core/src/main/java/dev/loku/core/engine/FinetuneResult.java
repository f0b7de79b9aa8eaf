package dev.loku.core.engine;

import java.nio.file.Path;

/**
 * @param modelDir the fine-tuned model as a Hugging Face folder
 * @param finalLoss mean training NLL per token over the last epoch's batches
 * @param trainMa memorisation accuracy (docs/method.md §5.1) of the fine-tuned model on its training data
 */
public record FinetuneResult(Path modelDir, int epochs, double finalLoss, double trainMa) {}
