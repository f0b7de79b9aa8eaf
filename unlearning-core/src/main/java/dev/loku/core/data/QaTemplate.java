package dev.loku.core.data;

import java.util.Objects;

/**
 * How a question/answer pair becomes one training text (docs/method.md §7.2):
 * {@code questionStart + question + questionEnd} is the prompt (no loss), {@code answerStart + answer} the
 * trained and scored part; the answer tag belongs to the answer span, as in the reference.
 */
public record QaTemplate(String questionStart, String questionEnd, String answerStart) {

    /** "Question: {q}\nAnswer: {a}": the reference's Phi-1.5 template, a plain choice for base models. */
    public static final QaTemplate PLAIN = new QaTemplate("Question: ", "\n", "Answer: ");

    /** "[INST] {q} [/INST]{a}": the reference's Llama-2-chat template (no space before the answer). */
    public static final QaTemplate LLAMA2_CHAT = new QaTemplate("[INST] ", " [/INST]", "");

    public QaTemplate {
        Objects.requireNonNull(questionStart, "questionStart");
        Objects.requireNonNull(questionEnd, "questionEnd");
        Objects.requireNonNull(answerStart, "answerStart");
    }

    /** The prompt alone, tokenised on its own to count the masked positions n_q. */
    public String questionPart(String question) {
        return questionStart + question + questionEnd;
    }

    public String fullText(String question, String answer) {
        return questionPart(question) + answerStart + answer;
    }
}
