package dev.loku.core.metrics;

import java.util.List;

/**
 * Memorisation accuracy (Jang et al.; docs/method.md §5.1): the share of kept positions t = 1..T−1 at which the greedy
 * next token after the true prefix is the true token, per sequence, then the plain mean over sequences. For a raw
 * text window every position after the first is kept, which is the paper's (1/(T−1)) Σ_t 1[argmax = x_{t+1}].
 */
public final class MemorisationAccuracy {

    private MemorisationAccuracy() {
    }

    /** NaN for a sequence with no kept position. */
    public static double ofSequence(TeacherForcedPredictions p) {
        if (p.size() == 0) {
            return Double.NaN;
        }
        int hits = 0;
        for (int j = 0; j < p.size(); j++) {
            if (p.predicted()[j] == p.target()[j]) {
                hits++;
            }
        }
        return (double) hits / p.size();
    }

    public static double[] perSequence(List<TeacherForcedPredictions> rows) {
        return rows.stream().mapToDouble(MemorisationAccuracy::ofSequence).toArray();
    }

    /** Mean over sequences with at least one kept position. */
    public static double mean(List<TeacherForcedPredictions> rows) {
        return SequenceMeans.mean(perSequence(rows));
    }
}
