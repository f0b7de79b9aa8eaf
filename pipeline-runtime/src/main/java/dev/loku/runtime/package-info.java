/**
 * What every LoKU service shares. {@link dev.loku.runtime.PipelineIds} spells out the deterministic identities
 * (forget set, job, candidate version, audit event, undecodable request); the sub-packages hold configuration,
 * the model catalogue, the artifact store, audit and dead letters, metrics, the service contract, Kafka plumbing,
 * serdes, and the embedded broker and registry.
 */
package dev.loku.runtime;
