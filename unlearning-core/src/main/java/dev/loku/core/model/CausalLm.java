package dev.loku.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.List;
import java.util.Map;

/**
 * A causal language model the engine can run, differentiate and change.
 *
 * <h2>Memory</h2>
 * Weights live in {@link #manager()} until {@link #close()}. Every call that takes a {@code caller} manager opens a
 * child scope for its temporaries, closes it before returning, and attaches only its result to {@code caller}.
 * Calls without a manager return Java values and leave no arrays behind.
 *
 * <h2>Gradients</h2>
 * All parameters start frozen. To train or to measure importance, call {@code parameter(name)
 * .setRequiresGradient(true)} on the tensors you want, run {@link #logits} or {@link #meanNll} inside a DJL
 * {@code GradientCollector}, call {@link #backward}, read {@code getGradient()}. libtorch accumulates gradients, so
 * zero them between steps ({@code grad.subi(grad)}), and note that each {@code getGradient()} call returns a new
 * NDArray handle in the parameter's manager: close it when done. DJL allows one collector at a time per JVM.
 *
 * <h2>Threads</h2>
 * Forward calls may run concurrently; changing adapters or assigning parameters while a forward runs is not safe.
 */
public interface CausalLm extends AutoCloseable {

    /** The family's {@code model_type}, e.g. {@code llama} or {@code gpt_neo}. */
    String architecture();

    ModelFamily family();

    ModelConfig config();

    /** The tokenizer loaded with the model; null for a randomly initialised model. */
    TextTokenizer tokenizer();

    Device device();

    /** The manager that owns the weights. */
    NDManager manager();

    // ---- parameters -------------------------------------------------------------------------------------------

    /** Hugging Face parameter names in a stable order (embedding, layer by layer, final norm, untied head). */
    List<String> parameterNames();

    /** The live weight tensor called {@code name}; throws {@link IllegalArgumentException} for unknown names. */
    NDArray parameter(String name);

    /** Name to live tensor, in {@link #parameterNames()} order (unmodifiable). */
    Map<String, NDArray> parameters();

    /**
     * Overwrites parameter {@code name} in place with {@code values} (same shape; any dtype convertible to the
     * parameter's). The tensor object stays the same, so optimizer state and references keep working: FILA uses
     * this to write residual weights.
     */
    void assignParameter(String name, NDArray values);

    /**
     * Frees the gradient buffer libtorch keeps on linear-projection weight {@code name} after a backward pass (DJL
     * has no {@code grad = None}): the weight is replaced by a copy that does not require gradients, and the old
     * tensor, buffer included, is closed. References to the old tensor (from {@link #parameter} or
     * {@link #parameters()} taken before) are then closed; read the weight anew. The Fisher pass calls this for the
     * weights it measured (docs/method.md §2.2).
     *
     * @throws IllegalArgumentException when {@code name} is not the weight of a linear projection
     */
    void releaseGradient(String name);

    /** Total number of weights (a tied head counted once). */
    long parameterCount();

    /**
     * The floating type every weight is stored in (float32 or float16), which the forward's products compute in;
     * softmaxes, RMS norms, log-probabilities, adapter sums and losses are float32 whatever it is.
     */
    ai.djl.ndarray.types.DataType weightType();

    /**
     * The floating type {@link HfExporter} writes the weights in: that of the checkpoint the model was loaded from
     * (float32, float16 or bfloat16), or the {@link #weightType} when that is narrower, so a bfloat16 checkpoint
     * comes back as bfloat16 however it was computed on. {@link #exportAs} changes it.
     */
    ai.djl.ndarray.types.DataType exportType();

    /** Makes exports write the weights as {@code type} (float32, float16 or bfloat16); copies keep it. */
    void exportAs(ai.djl.ndarray.types.DataType type);

    // ---- adapters ---------------------------------------------------------------------------------------------

    /**
     * Every linear projection an adapter can be installed on, layer by layer in the family's order
     * ({@link ModelFamily#projectionKinds()}); the head is not among them.
     */
    List<LinearProjection> linearProjections();

    /**
     * The order in which this model holds the output rows of its projections: {@link RotaryLayout#HALF}
     * (Hugging Face's) for every model loaded from a Hugging Face folder, {@link RotaryLayout#INTERLEAVED} for a
     * llama2.c checkpoint, whose q/k rows pair rotary dimensions differently.
     */
    RotaryLayout rotaryLayout();

    /**
     * {@code rows}, indexed like {@code projection}'s output features (its weight, its bias, a LoRA B, a Fisher
     * importance), reordered from layout {@code from} to layout {@code to}: a new array in {@code rows}' manager,
     * or {@code rows} itself when the two orders are the same for this projection.
     */
    NDArray reorderRows(LinearProjection projection, NDArray rows, RotaryLayout from, RotaryLayout to);

    /** Installs (or with null, removes) the adapter on projection {@code module}, e.g. {@code model.layers.0.self_attn.q_proj}. */
    void setAdapter(String module, LinearAdapter adapter);

    /** The adapter installed on {@code module}, or null. */
    LinearAdapter adapter(String module);

    void clearAdapters();

    // ---- computation ------------------------------------------------------------------------------------------

    /**
     * Logits {@code [B, T, V]} float32 for every position: row b, column t scores the token that follows column t.
     * Recorded for autograd when called inside a GradientCollector. Attached to {@code caller}.
     */
    NDArray logits(NDManager caller, TokenBatch batch);

    /**
     * {@code [B, T]} float32, aligned with the ids: column t holds log p(ids[t] | ids[&lt;t]) for t &ge; 1 and 0 at
     * t = 0. Padding columns hold meaningless values; weight by {@link TokenBatch#labelMaskArray}. Differentiable.
     */
    NDArray tokenLogProbs(NDManager caller, TokenBatch batch);

    /**
     * Mean negative log-likelihood (nats per target token) over the batch's label mask, a scalar: the token-level
     * mean over the whole batch, as Hugging Face's causal-LM loss. Differentiable.
     */
    NDArray meanNll(NDManager caller, TokenBatch batch);

    /**
     * Activation checkpointing for training passes (off by default): a forward recorded for autograd keeps only
     * each layer's input, not the layer's intermediates, and {@link #backward} recomputes one layer at a time,
     * last to first, to carry the gradient down. The gradients are the ones an ordinary backward computes; the
     * price is a second forward of every layer. Peak memory then holds one layer's intermediates instead of all.
     */
    void setActivationCheckpointing(boolean on);

    boolean activationCheckpointing();

    /**
     * {@code gc.backward(loss)}, then, for the forwards recorded with activation checkpointing since the last call,
     * the layer-by-layer recomputation that finishes their gradients. Training code calls this instead of
     * {@code gc.backward}, so that it works with checkpointing on or off.
     */
    void backward(GradientCollector gc, NDArray loss);

    /** For each row and column, the argmax next-token prediction (what greedy decoding would emit there). */
    int[][] greedyPredictions(TokenBatch batch);

    /**
     * Greedy continuations of several prompts at once with a KV cache. Row r receives at most {@code maxNewTokens[r]}
     * tokens; with {@code stopAtEos} a row also stops after emitting an EOS id (which is included). Returns only the
     * new tokens. Each row's result equals generating that prompt alone.
     */
    List<int[]> generateGreedy(List<int[]> prompts, int[] maxNewTokens, boolean stopAtEos);

    /**
     * Greedy continuations of prefixes of known sequences, the workload of extraction likelihood (docs/method.md §5.1):
     * row r continues {@code sequences.get(sequenceOfRow[r])[0 .. prefixLengths[r])} for at most
     * {@code maxNewTokens[r]} tokens. Equal to {@link #generateGreedy(List, int[], boolean)} on the explicit
     * prefixes, but the prompts are not recomputed: one pass over each sequence provides every prefix's keys and
     * values (causal attention makes position p depend on tokens 0..p only).
     */
    List<int[]> generateGreedyFromPrefixes(List<int[]> sequences, int[] sequenceOfRow, int[] prefixLengths,
                                           int[] maxNewTokens, boolean stopAtEos);

    /** Greedy continuation of one prompt, stopping at EOS or after {@code maxNewTokens}. */
    default int[] generateGreedy(int[] prompt, int maxNewTokens) {
        return generateGreedy(List.of(prompt), new int[] {maxNewTokens}, true).get(0);
    }

    /**
     * A frozen, independent copy of the weights (adapters not included) sharing the tokenizer: the reference model
     * for KL and NPO objectives. Closing either leaves the other usable.
     */
    CausalLm copy();

    @Override
    void close();
}
