/**
 * What the Fisher, worker and eval services share: the {@link dev.loku.runtime.job.JobStage} that builds a whole
 * job service from its configuration (stores, audit, dead letters, final failure, metrics, one transactional
 * runner per input); a forget set's attempt ({@link dev.loku.runtime.job.ForgetSetJob}) and its profile; the stores'
 * answers to what every job asks ({@link dev.loku.runtime.job.PipelineStores}: the model, the base version, the
 * forget set); per-request audit events ({@link dev.loku.runtime.job.StageAudit}); failures that name their reason
 * without personal data ({@link dev.loku.runtime.job.JobFailure}); and the final FAIL that closes a set a stage
 * cannot finish ({@link dev.loku.runtime.job.FinalFailure}).
 */
package dev.loku.runtime.job;
