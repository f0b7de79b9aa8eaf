package dev.loku.core.metrics;

/**
 * A token sequence whose extraction is measured, and how many of its leading tokens are context that is always
 * given to the model rather than extracted: 1 for a BOS, the prompt length for a question/answer pair, 0 for
 * the raw windows of the extraction benchmark.
 */
public record ExtractionTarget(int[] tokens, int contextLength) {

    public ExtractionTarget {
        if (contextLength < 0 || contextLength > tokens.length) {
            throw new IllegalArgumentException(
                    "context length " + contextLength + " outside a sequence of " + tokens.length + " tokens");
        }
    }

    /** T in docs/method.md §5.1: the number of tokens after the context. */
    public int measuredLength() {
        return tokens.length - contextLength;
    }
}
