/**
 * Fisher-weighted initialisation of LoRA adapters (docs/method.md §2.3-2.4): relative importance, output-row weights,
 * truncated SVD (exact through EJML, randomised with libtorch products) and the A₀, B₀, W_res factors.
 */
package dev.loku.core.fila;
