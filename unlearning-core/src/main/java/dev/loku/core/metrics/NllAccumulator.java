package dev.loku.core.metrics;

import ai.djl.ndarray.NDArray;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.objective.ScoredBatch;

/**
 * Token-weighted mean NLL over many batches, and perplexity = exp(mean NLL) (docs/method.md §5.1): every kept label
 * token of the data set weighs the same, whatever batch it came in.
 */
public final class NllAccumulator {

    private double nllSum;
    private long tokens;

    /** Adds the summed NLL and the kept-token count of one scored batch. */
    public void add(ScoredBatch batch) {
        try (NDArray sum = CausalLmLoss.totalNll(batch)) {
            nllSum += sum.getFloat(); // fp32 per batch, summed in double across batches
        }
        tokens += CausalLmLoss.keptTokenCount(batch.labels());
    }

    /** Adds a pre-computed NLL sum over {@code tokenCount} tokens. */
    public void add(double summedNll, long tokenCount) {
        nllSum += summedNll;
        tokens += tokenCount;
    }

    public long tokens() {
        return tokens;
    }

    /** NaN before any token was added. */
    public double meanNll() {
        return tokens == 0 ? Double.NaN : nllSum / tokens;
    }

    public double perplexity() {
        return Math.exp(meanNll());
    }
}
