/**
 * The ingest service (docs/pipeline.md, step 1): {@link dev.loku.ingest.IngestTopology} validates, dead-letters,
 * dedupes and batches erasure requests into forget sets, one in flight per model;
 * {@link dev.loku.ingest.IngestService} runs it as a Kafka Streams app with exactly_once_v2;
 * {@link dev.loku.ingest.IngestConfig} holds its {@code ingest.*} fields.
 */
package dev.loku.ingest;
