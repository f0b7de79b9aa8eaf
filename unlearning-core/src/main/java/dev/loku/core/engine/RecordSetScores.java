package dev.loku.core.engine;

/**
 * One model's scores on one record set (docs/method.md §5.1), each a plain mean over records except the NLL, which is a
 * token-weighted mean.
 *
 * @param records how many records were scored
 * @param ma memorisation accuracy: teacher-forced argmax accuracy on label tokens
 * @param el10 extraction likelihood EL_10 from greedy continuations of every prefix; NaN when not measured or when
 *     no record is longer than 10 measured tokens
 * @param nll mean negative log-likelihood per label token (nats)
 * @param em exact memorisation as OpenUnlearning computes it (see {@link dev.loku.core.metrics.ExactMemorisation})
 * @param es extraction strength (see {@link dev.loku.core.metrics.ExtractionStrength})
 */
public record RecordSetScores(int records, double ma, double el10, double nll, double em, double es) {

    /** exp(nll). */
    public double perplexity() {
        return Math.exp(nll);
    }
}
