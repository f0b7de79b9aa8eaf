/**
 * Unlearning objectives over (forget, retain) micro-batches of logits and labels (docs/method.md §1, §4):
 * {@link dev.loku.core.objective.InvertedHingeLoss} (LoKU), gradient ascent, gradient difference, KL against a
 * frozen reference and NPO+GD. A trainer asks {@link dev.loku.core.objective.UnlearningObjective#needs()} which
 * forward passes to run, builds {@link dev.loku.core.objective.ObjectiveInputs} and backpropagates
 * {@code compute(inputs).total()}.
 */
package dev.loku.core.objective;
