/**
 * Optimisation pieces (docs/method.md §3): {@link dev.loku.core.train.AdamW} over named parameters,
 * {@link dev.loku.core.train.LearningRateSchedule} (HF linear warm-up/decay, constant),
 * {@link dev.loku.core.train.GradientAccumulator}, {@link dev.loku.core.train.Gradients} (read and zero the engine's
 * accumulated {@code .grad}) and the {@link dev.loku.core.train.TrainingRecipe} presets.
 */
package dev.loku.core.train;
