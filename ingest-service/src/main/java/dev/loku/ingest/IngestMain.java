package dev.loku.ingest;

import dev.loku.runtime.service.ServiceMain;

/**
 * The ingest service's runnable jar: {@code java -jar ingest-service.jar [--config FILE]}, the same spec as
 * {@code loku serve ingest} without the CLI (see {@link ServiceMain} for arguments, environment and exit codes).
 */
public final class IngestMain {

    /** What the jar runs: the ingest service with its config groups. */
    public static final ServiceMain.Spec SPEC = ServiceMain.Spec.of("ingest", "ingest-service.jar",
            "The ingest service: validates erasure requests, dead-letters unreadable ones, dedupes, and batches accepted\n"
                    + "requests per model into forget sets (Kafka Streams, exactly-once).",
            IngestConfig.GROUPS, IngestConfig::from, IngestService::new);

    private IngestMain() {
    }

    public static void main(String[] args) {
        ServiceMain.main(SPEC, args);
    }
}
