/**
 * The unlearning worker (docs/pipeline.md, stage 3): for each ImportanceReady, a FILA-initialised LoRA trained with
 * the inverted hinge loss under the model's profile at this attempt's strength, published as a candidate model
 * version with its adapter, and announced as UnlearnCompleted. {@link dev.loku.worker.WorkerJob} is the work per
 * job, {@link dev.loku.worker.WorkerService} the Kafka side, and {@link dev.loku.worker.UnlearningRunner} the engine
 * boundary: the one constructor argument that decides whether the real engine or a fake trains.
 */
package dev.loku.worker;
