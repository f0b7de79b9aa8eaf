package dev.loku.core.data;

import dev.loku.core.metrics.ExtractionTarget;
import dev.loku.core.objective.CausalLmLoss;
import java.util.Arrays;

/**
 * One record as token ids and labels of equal length, before padding.
 *
 * @param inputIds the tokens fed to the model; when an EOS label follows the text, the slot it sits on holds the
 *     EOS id but is not attended (docs/method.md §7.2: the reference right-pads with EOS and labels the first pad)
 * @param labels the target per position, {@link CausalLmLoss#IGNORE_INDEX} where no loss is taken
 * @param attendedLength how many leading positions are real text (attention mask 1)
 * @param lineNumber the record's line in its file
 */
public record EncodedExample(int[] inputIds, int[] labels, int attendedLength, int lineNumber) {

    public EncodedExample {
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("input ids and labels differ in length");
        }
        if (attendedLength < 1 || attendedLength > inputIds.length) {
            throw new IllegalArgumentException("attended length " + attendedLength + " outside 1.." + inputIds.length);
        }
    }

    public int length() {
        return inputIds.length;
    }

    /** Positions with a label, i.e. the tokens trained on and the n_b of the Fisher pass. */
    public int labelCount() {
        int n = 0;
        for (int label : labels) {
            if (label != CausalLmLoss.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }

    /** The first labelled position: n_q for a QA pair, 1 after a BOS; {@link #length()} when none. */
    public int firstLabelPosition() {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != CausalLmLoss.IGNORE_INDEX) {
                return i;
            }
        }
        return labels.length;
    }

    /**
     * The attended tokens as an extraction target: everything before the first label is context given to the
     * model (BOS, or the question), the rest is what extraction is measured on (docs/method.md §5.1).
     */
    public ExtractionTarget extractionTarget() {
        int[] tokens = Arrays.copyOf(inputIds, attendedLength);
        return new ExtractionTarget(tokens, Math.min(firstLabelPosition(), attendedLength));
    }
}
