package dev.loku.core.model;

import ai.djl.ndarray.NDArray;

/**
 * Something added to a linear projection's output: the model computes {@code x·Wᵀ + adapter.delta(x)}. LoRA is
 * {@code delta(x) = scale · (dropout(x)·Aᵀ)·Bᵀ}.
 *
 * <p>{@code input} has shape {@code [..., in]} and lives in the forward pass's scope; the result must have shape
 * {@code [..., out]} and be a new array. Compute it from {@code input} first ({@code input.matMul(...)}): DJL puts an
 * operation's result in its first operand's manager, so results derived from {@code input} are freed with the scope.
 * A result found in another manager is moved into the scope. Gradients flow through whatever tensors of the adapter
 * require them.
 */
@FunctionalInterface
public interface LinearAdapter {
    NDArray delta(NDArray input);
}
