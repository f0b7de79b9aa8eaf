/**
 * The unlearning engine's facade, {@link dev.loku.core.engine.UnlearningEngine}: evaluation (docs/method.md §5.1), full
 * fine-tuning (§3.1), the Fisher pass (§2.2) and unlearning with any objective of §4 on full weights or
 * (FILA-initialised) LoRA adapters until Jang et al.'s stop rule (§3.2). The CLI's offline commands and the
 * pipeline's services both call it; records in, paths and plain records out, tensors inside. docs/engine.md explains
 * the pieces and the measurements behind {@link dev.loku.core.engine.UnlearnSettings#loku()}.
 */
package dev.loku.core.engine;
