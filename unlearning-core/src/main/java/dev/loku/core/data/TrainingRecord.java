package dev.loku.core.data;

/** One line of a forget, retain or unseen JSONL file, remembering its 1-based line number for error messages. */
public sealed interface TrainingRecord permits TextRecord, QaRecord {

    int lineNumber();
}
