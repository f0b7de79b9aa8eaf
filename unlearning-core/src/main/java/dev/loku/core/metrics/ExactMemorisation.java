package dev.loku.core.metrics;

import java.util.List;

/**
 * OpenUnlearning's {@code exact_memorization}: per sequence, the share of labelled positions whose teacher-forced
 * argmax is the label, <em>leaving out the last labelled position</em> (upstream drops it as "the EOS prediction";
 * on text without an EOS label it drops the last real token), then the mean over sequences. A sequence left with no
 * position scores NaN and is skipped in the mean, as upstream returns None for it.
 */
public final class ExactMemorisation {

    private ExactMemorisation() {
    }

    public static double ofSequence(TeacherForcedPredictions p) {
        int n = p.size() - 1;
        if (n <= 0) {
            return Double.NaN;
        }
        int hits = 0;
        for (int j = 0; j < n; j++) {
            if (p.predicted()[j] == p.target()[j]) {
                hits++;
            }
        }
        return (double) hits / n;
    }

    public static double[] perSequence(List<TeacherForcedPredictions> rows) {
        return rows.stream().mapToDouble(ExactMemorisation::ofSequence).toArray();
    }

    public static double mean(List<TeacherForcedPredictions> rows) {
        return SequenceMeans.mean(perSequence(rows));
    }
}
