package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;

/**
 * The scalar an optimiser minimises, and the two signed parts it is the sum of, for logging:
 * {@code total = forgetTerm + retainTerm}. Gradient ascent's forget term is therefore negative (−NLL).
 * All three are attached to the manager of the forget logits; {@code retainTerm} is null for forget-only objectives.
 */
public record ObjectiveLoss(NDArray total, NDArray forgetTerm, NDArray retainTerm) {
}
