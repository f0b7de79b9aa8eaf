package dev.loku.core.data;

/** {@code {"question": ..., "answer": ...}}: trained and scored on the answer only (docs/method.md §7.2). */
public record QaRecord(String question, String answer, int lineNumber) implements TrainingRecord {
}
