/**
 * The eval service (docs/pipeline.md, stage 4): for each candidate, the base version's and the candidate's scores
 * on forget, retain and unseen data, the verdict, and its consequences (promotion, a retry with a stronger profile,
 * or a final failure); after every final verdict, the purge of the forget set's data.
 * {@link dev.loku.eval.VerificationJob} and {@link dev.loku.eval.PurgeJob} are the work,
 * {@link dev.loku.eval.EvalService} the Kafka side, and {@link dev.loku.eval.CandidateEvaluator} the engine
 * boundary: the one constructor argument that decides whether the real engine or a fake measures.
 */
package dev.loku.eval;
