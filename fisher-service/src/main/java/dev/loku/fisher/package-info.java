/**
 * The Fisher service (docs/pipeline.md, stage 2): for each forget set, the Fisher importance of the base version's
 * parameters over the forget set and a seeded retain sample, stored as an artifact and announced as
 * ImportanceReady. {@link dev.loku.fisher.FisherJob} is the work per forget set, {@link dev.loku.fisher.FisherService}
 * the Kafka side, and {@link dev.loku.fisher.ImportanceEstimator} the engine boundary: the one constructor argument
 * that decides whether the real engine or a fake computes the importance.
 */
package dev.loku.fisher;
