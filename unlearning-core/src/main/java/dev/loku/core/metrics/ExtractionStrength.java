package dev.loku.core.metrics;

import java.util.List;

/**
 * OpenUnlearning's {@code extraction_strength}, over the same positions as {@link ExactMemorisation} (labelled
 * positions minus the last): with N positions, find the smallest k such that the teacher-forced argmax equals the
 * label at every position from k to the end; ES = 1 − k/N. High ES means a short true prefix suffices for the model
 * to reproduce the rest.
 *
 * <p>Reproduced as upstream computes it, quirk included: its loop leaves k = N − 1 when no suffix matches, so a
 * sequence with no matching suffix scores 1/N rather than 0 (the same as one whose last token alone matches).
 * A sequence with no position scores 0, as upstream.
 */
public final class ExtractionStrength {

    private ExtractionStrength() {
    }

    public static double ofSequence(TeacherForcedPredictions p) {
        int n = p.size() - 1;
        if (n <= 0) {
            return 0.0;
        }
        // Walk back from the end while predictions match: 'first' is where the longest matching suffix starts.
        int first = n;
        while (first > 0 && p.predicted()[first - 1] == p.target()[first - 1]) {
            first--;
        }
        int k = first == n ? n - 1 : first; // no matching suffix: upstream's loop ends at k = N - 1
        return 1.0 - (double) k / n;
    }

    public static double[] perSequence(List<TeacherForcedPredictions> rows) {
        return rows.stream().mapToDouble(ExtractionStrength::ofSequence).toArray();
    }

    public static double mean(List<TeacherForcedPredictions> rows) {
        return SequenceMeans.mean(perSequence(rows));
    }
}
