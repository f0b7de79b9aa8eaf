package dev.loku.core.data;

/** {@code {"text": ...}}: raw text, trained and scored on every token after the BOS (docs/method.md §7.1). */
public record TextRecord(String text, int lineNumber) implements TrainingRecord {
}
