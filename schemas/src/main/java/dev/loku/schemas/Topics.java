package dev.loku.schemas;

import dev.loku.events.AuditEvent;
import dev.loku.events.DeadLetter;
import dev.loku.events.ErasureRequest;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.ImportanceReady;
import dev.loku.events.JobProgress;
import dev.loku.events.ModelVersionPromoted;
import dev.loku.events.UnlearnCompleted;
import dev.loku.events.VerificationResult;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The topic catalogue (DESIGN.md §3): every topic of the pipeline, its key, value, partitions and retention.
 *
 * <p>Partitions. Topics keyed by model id (forget sets, importance, candidates, verifications, model versions)
 * all get {@value #MODEL_KEYED_PARTITIONS} partitions: one model's jobs stay in one partition and in order, ops can
 * run up to that many workers per stage, and equal counts keep the topics co-partitioned, which Kafka Streams joins
 * between them require. Request-keyed topics get the same count so ingest scales alike. Changing a count later moves
 * keys between partitions and breaks per-model order for in-flight jobs, so choose generously up front.
 *
 * <p>Retention. Topics that carry the content to be erased (the requests themselves, and dead letters, which may
 * hold an undecodable request's original bytes) keep it {@value #PERSONAL_DATA_RETENTION_DAYS} days: long enough to
 * survive an outage, short enough that Kafka does not become a second copy of the data being erased. Job topics
 * carry only ids, hashes and artifact references and keep 30 days for diagnosis. The audit trail keeps ten years
 * (evidence of compliance outlives the data). Model versions are compacted: the latest version per model is kept
 * for ever.
 */
public final class Topics {

    /** Partitions of every model- or request-keyed topic (see the class comment). */
    public static final int MODEL_KEYED_PARTITIONS = 6;
    /** Days that topics holding personal data (the content to erase) keep it. */
    public static final int PERSONAL_DATA_RETENTION_DAYS = 7;

    private static final Duration PERSONAL_DATA_RETENTION = Duration.ofDays(PERSONAL_DATA_RETENTION_DAYS);
    private static final Duration JOB_RETENTION = Duration.ofDays(30);
    private static final Duration AUDIT_RETENTION = Duration.ofDays(3650);

    /**
     * Erasure requests as submitted, keyed by request id. They carry the content to forget (personal data), hence
     * the short retention: the forget-set artifact takes over once a request is batched.
     */
    public static final Topic<String, ErasureRequest> ERASURE_REQUESTS = new Topic<>(
            "loku.erasure-requests", String.class, "request id", ErasureRequest.class,
            MODEL_KEYED_PARTITIONS, PERSONAL_DATA_RETENTION, CleanupPolicy.DELETE);

    /** Forget sets cut by the ingest service, keyed by model id: references and hashes, never the text. */
    public static final Topic<String, ForgetSetReady> FORGET_SETS = new Topic<>(
            "loku.forget-sets", String.class, "model id", ForgetSetReady.class,
            MODEL_KEYED_PARTITIONS, JOB_RETENTION, CleanupPolicy.DELETE);

    /** Fisher importance of each forget set, keyed by model id. */
    public static final Topic<String, ImportanceReady> IMPORTANCE = new Topic<>(
            "loku.importance", String.class, "model id", ImportanceReady.class,
            MODEL_KEYED_PARTITIONS, JOB_RETENTION, CleanupPolicy.DELETE);

    /** Candidate versions produced by the unlearning worker, keyed by model id. */
    public static final Topic<String, UnlearnCompleted> CANDIDATES = new Topic<>(
            "loku.candidates", String.class, "model id", UnlearnCompleted.class,
            MODEL_KEYED_PARTITIONS, JOB_RETENTION, CleanupPolicy.DELETE);

    /** Verdicts of the eval service, keyed by model id. */
    public static final Topic<String, VerificationResult> VERIFICATIONS = new Topic<>(
            "loku.verifications", String.class, "model id", VerificationResult.class,
            MODEL_KEYED_PARTITIONS, JOB_RETENTION, CleanupPolicy.DELETE);

    /**
     * Promoted model versions, keyed by model id and compacted: the latest record per model is the version to
     * serve, kept for as long as the topic exists.
     */
    public static final Topic<String, ModelVersionPromoted> MODEL_VERSIONS = new Topic<>(
            "loku.model-versions", String.class, "model id", ModelVersionPromoted.class,
            MODEL_KEYED_PARTITIONS, null, CleanupPolicy.COMPACT);

    /**
     * The audit trail, keyed by request id so each request's events stay in order. Append-only and free of
     * personal data, so it can be kept ten years as evidence of compliance.
     */
    public static final Topic<String, AuditEvent> AUDIT = new Topic<>(
            "loku.audit", String.class, "request id", AuditEvent.class,
            MODEL_KEYED_PARTITIONS, AUDIT_RETENTION, CleanupPolicy.DELETE);

    /** Job heartbeats for dashboards, keyed by forget-set id; worthless after a day. */
    public static final Topic<String, JobProgress> PROGRESS = new Topic<>(
            "loku.progress", String.class, "forget set id", JobProgress.class,
            MODEL_KEYED_PARTITIONS, Duration.ofDays(1), CleanupPolicy.DELETE);

    /**
     * Records a service could not process, keyed by the original key bytes. A dead letter may hold the original
     * bytes of an erasure request, i.e. the personal data being erased, so it keeps them no longer than
     * {@link #ERASURE_REQUESTS} does. Low volume: three partitions are plenty.
     */
    public static final Topic<byte[], DeadLetter> DEAD_LETTERS = new Topic<>(
            "loku.dead-letters", byte[].class, "original record key", DeadLetter.class,
            3, PERSONAL_DATA_RETENTION, CleanupPolicy.DELETE);

    /** Every topic of the catalogue, in pipeline order. */
    public static final List<Topic<?, ?>> ALL = List.of(
            ERASURE_REQUESTS, FORGET_SETS, IMPORTANCE, CANDIDATES, VERIFICATIONS, MODEL_VERSIONS, AUDIT, PROGRESS,
            DEAD_LETTERS);

    private Topics() {
    }

    /** The catalogue topic called {@code name}, if there is one. */
    public static Optional<Topic<?, ?>> byName(String name) {
        return ALL.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
