/**
 * Causal language models on DJL's PyTorch engine, one class per decoder family: {@link
 * dev.loku.core.model.LlamaModel} (Llama 2/3, TinyLlama, SmolLM, stories260K, and the Llama-block families Mistral
 * and Qwen2), {@link dev.loku.core.model.GptNeoModel} and {@link dev.loku.core.model.PhiModel}, over a shared
 * {@link dev.loku.core.model.DecoderModel} (weights, adapters, attention, KV-cache generation). {@link
 * dev.loku.core.model.ModelLoader} picks the family from a Hugging Face {@code config.json}
 * ({@link dev.loku.core.model.ModelFamily}); the rest of the engine sees {@link dev.loku.core.model.CausalLm} and
 * {@link dev.loku.core.model.ModelConfig} only.
 *
 * <pre>{@code
 * try (CausalLm model = ModelLoader.load(Path.of("models/stories260K"), Devices.parse("auto"));
 *      NDManager step = NDManager.newBaseManager(model.device())) {
 *     TextTokenizer tok = model.tokenizer();
 *     TokenBatch batch = TokenBatch.of(List.of(tok.encode("Once upon a time", true)),
 *             TokenBatch.Padding.RIGHT, tok.padId());
 *
 *     NDArray logits = model.logits(step, batch);             // [B, T, V] float32, attached to `step`
 *     NDArray nll = model.meanNll(step, batch);               // scalar, nats per target token
 *
 *     NDArray w = model.parameter("model.layers.0.self_attn.q_proj.weight");
 *     w.setRequiresGradient(true);
 *     try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
 *         model.backward(gc, model.meanNll(step, batch));
 *     }
 *     NDArray grad = w.getGradient();                          // a new handle each call: close it
 *
 *     model.setAdapter("model.layers.0.self_attn.q_proj", x -> x.matMul(deltaT));   // adds to x·Wᵀ
 *     List<int[]> continuations = model.generateGreedy(prompts, maxNewPerRow, true); // batched, KV cache
 *     List<int[]> el = model.generateGreedyFromPrefixes(seqs, seqOfRow, prefixLen, maxNew, false); // EL_n
 *     HfExporter.export(model, Path.of("out/hf"));            // a folder of the model's family
 * }
 * }</pre>
 *
 * Weights use Hugging Face names ({@code model.layers.N.self_attn.q_proj.weight},
 * {@code transformer.h.N.attn.attention.q_proj.weight}, ...) whatever the source format; llama2.c checkpoints keep
 * their interleaved rotary layout ({@link dev.loku.core.model.RotaryLayout}) and the exporter permutes q/k rows for
 * Hugging Face.
 */
package dev.loku.core.model;
