package dev.loku.core.objective;

/**
 * What the two terms of an {@link ObjectiveLoss} divide by in one micro-batch: the number of label tokens for a token
 * mean, of sequences for a per-sequence mean, of positions for KL's batch-mean. Weighting micro-batches by these
 * counts over their epoch totals makes the accumulated terms one mean over the whole epoch (docs/engine.md
 * "Micro-batch weighting").
 *
 * @param forget the forget term's count
 * @param retain the retain term's count; 0 for objectives without a retain term
 */
public record TermCounts(long forget, long retain) {

    public TermCounts {
        if (forget < 0 || retain < 0) {
            throw new IllegalArgumentException("counts cannot be negative: " + forget + ", " + retain);
        }
    }
}
