package dev.loku.core.engine;

import java.nio.file.Path;

/**
 * The outcome of {@link UnlearningEngine#unlearn}.
 *
 * @param modelDir the candidate with any adapter merged, as a Hugging Face folder
 * @param adapterDir the PEFT adapter folder (residual base needed, docs/method.md §8.6); null when loraRank == 0
 */
public record UnlearnResult(UnlearnReport report, Path modelDir, Path adapterDir) {}
