package dev.loku.core.engine;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The three JSONL record files of an unlearning job (docs/method.md §3.2, §5.1), each holding {@code {"text"}} or
 * {@code {"question","answer"}} objects, one a line.
 *
 * @param forget what the model must forget
 * @param retain what it must keep knowing: utility is measured and retain batches are drawn from it
 * @param unseen text of the same kind it never saw: the stop rule's thresholds are its scores on the starting model
 * @param general held-out general text (neither forget nor retain data), whose NLL guards general ability; null when
 *     not measured
 */
public record RecordSets(Path forget, Path retain, Path unseen, Path general) {

    public RecordSets {
        Objects.requireNonNull(forget, "the forget set");
        Objects.requireNonNull(retain, "the retain set");
        Objects.requireNonNull(unseen, "the unseen set");
    }

    /** The three sets of an unlearning job, without a general-text set. */
    public RecordSets(Path forget, Path retain, Path unseen) {
        this(forget, retain, unseen, null);
    }
}
