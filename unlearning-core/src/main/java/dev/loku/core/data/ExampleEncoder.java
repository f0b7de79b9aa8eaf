package dev.loku.core.data;

import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Turns records into ids and labels as the reference's data module does (docs/method.md §7.2):
 * <ul>
 *   <li>QA: the template's full text is tokenised with the BOS and cut at {@code maxLength}; labels are the ids plus
 *       one EOS label right after the last real token (only when the cut left room for it); the first n_q label
 *       positions are masked, n_q being the token count of the prompt part tokenised <em>alone</em>, BOS included.
 *       BPE merges across the prompt/answer boundary can shift the mask by a token; that is reproduced on purpose.</li>
 *   <li>Text: tokenised with the BOS and cut at {@code maxLength}; every token after the first is a label (the first
 *       cannot be predicted, so n_b counts exactly the predicted tokens); an EOS label is appended only when
 *       {@code eosLabelOnText} is set.</li>
 * </ul>
 */
public final class ExampleEncoder {

    /** The reference trains with 500 tokens (§3.1). */
    public static final int DEFAULT_MAX_LENGTH = 500;

    private final TextTokenizer tokenizer;
    private final QaTemplate template;
    private final int maxLength;
    private final boolean addBos;
    private final boolean eosLabelOnText;

    public ExampleEncoder(TextTokenizer tokenizer, QaTemplate template, int maxLength, boolean addBos,
            boolean eosLabelOnText) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.template = Objects.requireNonNull(template, "template");
        if (maxLength < 2) {
            throw new IllegalArgumentException("maximum length must be at least 2 tokens, got " + maxLength);
        }
        this.maxLength = maxLength;
        this.addBos = addBos;
        this.eosLabelOnText = eosLabelOnText;
    }

    /** BOS added, no EOS label on raw text, the {@link QaTemplate#PLAIN} template. */
    public ExampleEncoder(TextTokenizer tokenizer, int maxLength) {
        this(tokenizer, QaTemplate.PLAIN, maxLength, true, false);
    }

    public int maxLength() {
        return maxLength;
    }

    public EncodedExample encode(TrainingRecord record) {
        if (record instanceof QaRecord qa) {
            return encodeQa(qa);
        }
        return encodeText((TextRecord) record);
    }

    /**
     * Encodes every record and checks that each keeps at least one label after truncation.
     *
     * @param source names the file in error messages
     * @throws InvalidDataException naming the line of a record that would train on nothing
     */
    public List<EncodedExample> encodeAll(List<? extends TrainingRecord> records, String source) {
        List<EncodedExample> out = new ArrayList<>(records.size());
        for (TrainingRecord record : records) {
            EncodedExample e = encode(record);
            if (e.labelCount() == 0) {
                throw new InvalidDataException(source, record.lineNumber(), record instanceof QaRecord
                        ? "the question alone fills the " + maxLength + "-token limit, so no answer token is left;"
                                + " shorten it or raise the maximum length"
                        : "the text has fewer than 2 tokens, so there is nothing to predict");
            }
            out.add(e);
        }
        return out;
    }

    private EncodedExample encodeQa(QaRecord qa) {
        int[] ids = truncate(tokenizer.encode(template.fullText(qa.question(), qa.answer()), addBos));
        int promptTokens = tokenizer.encode(template.questionPart(qa.question()), addBos).length;
        EncodedExample e = withOptionalEos(ids, true, qa.lineNumber());
        Arrays.fill(e.labels(), 0, Math.min(promptTokens, e.labels().length), CausalLmLoss.IGNORE_INDEX);
        return e;
    }

    private EncodedExample encodeText(TextRecord text) {
        int[] ids = truncate(tokenizer.encode(text.text(), addBos));
        EncodedExample e = withOptionalEos(ids, eosLabelOnText, text.lineNumber());
        e.labels()[0] = CausalLmLoss.IGNORE_INDEX;
        return e;
    }

    private int[] truncate(int[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("the tokenizer produced no token");
        }
        return ids.length > maxLength ? Arrays.copyOf(ids, maxLength) : ids;
    }

    private EncodedExample withOptionalEos(int[] ids, boolean eosLabel, int lineNumber) {
        if (eosLabel && ids.length < maxLength) {
            int[] input = Arrays.copyOf(ids, ids.length + 1);
            input[ids.length] = tokenizer.eosId();
            return new EncodedExample(input, input.clone(), ids.length, lineNumber);
        }
        return new EncodedExample(ids, ids.clone(), ids.length, lineNumber);
    }
}
