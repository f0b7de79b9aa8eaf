package dev.loku.cli;

import dev.loku.core.engine.RecordSets;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The three JSONL record sets every memorisation measurement needs (docs/method.md §5.1), shared by {@code loku eval}
 * and {@code loku unlearn}: what to forget, what to keep, and what the model never saw (its scores there are the
 * stop rule's thresholds).
 */
final class RecordSetOptions {

    @Option(names = "--forget", required = true, paramLabel = "FILE", description = "JSONL records to forget.")
    Path forget;

    @Option(names = "--retain", required = true, paramLabel = "FILE", description = "JSONL records to keep.")
    Path retain;

    @Option(names = "--unseen", required = true, paramLabel = "FILE",
            description = "JSONL records the model never saw; their MA and EL_10 are the thresholds.")
    Path unseen;

    /** The three files, each checked first: a one-line user error for a missing one, before any model is loaded. */
    RecordSets requireFiles() {
        DataFiles.requireFile("--forget", forget);
        DataFiles.requireFile("--retain", retain);
        DataFiles.requireFile("--unseen", unseen);
        return new RecordSets(forget, retain, unseen);
    }
}
