/**
 * The audit trail and dead letters, built the same way in every service.
 * {@link dev.loku.runtime.audit.AuditEmitter} makes AuditEvents (deterministic ids, hashes only, counted in
 * metrics) for Streams processors, plain producers and job runners alike;
 * {@link dev.loku.runtime.audit.DeadLetterPublisher} makes dead letters for plain consumers.
 *
 * <p>Privacy rule: the data being erased never appears in logs, exceptions, audit events, dead-letter reasons or
 * metrics. The API enforces what it can: {@code contentSha256} accepts only a SHA-256 in hex, and reasons are
 * {@link dev.loku.runtime.audit.AuditReason}s, whose factories take fixed text, numbers, enums, UUIDs and checked
 * identifiers, never a free string. Log a request with {@code ErasureRequests.describe}, never its toString().
 */
package dev.loku.runtime.audit;
