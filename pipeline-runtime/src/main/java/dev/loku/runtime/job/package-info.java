/**
 * What the Fisher, worker and eval jobs share about a forget set's attempt: its identity
 * ({@link dev.loku.runtime.job.ForgetSetJob}), per-request audit events ({@link dev.loku.runtime.job.StageAudit}),
 * failures that name their reason without personal data ({@link dev.loku.runtime.job.JobFailure}), and the final
 * FAIL that closes a set a stage cannot finish ({@link dev.loku.runtime.job.FinalFailure}).
 */
package dev.loku.runtime.job;
