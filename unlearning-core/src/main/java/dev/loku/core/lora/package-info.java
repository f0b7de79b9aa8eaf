/**
 * LoRA adapters on the Llama model (docs/method.md §2.5): PEFT's default initialisation or FILA's Fisher-weighted one
 * (§2.3-2.4, with the base rewritten to its residual), trainable factors under PEFT's names, merge/unmerge, and
 * checkpoints in PEFT's format next to the Hugging Face folders of the (residual) base and of the merged model
 * (§8.6).
 */
package dev.loku.core.lora;
