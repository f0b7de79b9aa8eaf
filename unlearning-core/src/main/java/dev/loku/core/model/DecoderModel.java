package dev.loku.core.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.loku.core.tensor.Tensors;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A decoder-only transformer written as plain NDArray operations over named weight tensors: what every family
 * shares. A family's class says how its embeddings, layers and head compute ({@link #trunk}, {@link #head}); this
 * class owns the weights, the adapters on linear projections, attention (masks, grouped-query heads, sliding
 * windows, the KV cache), scoring and batched greedy generation.
 *
 * <p>Why not DJL's Block classes: the unlearning engine must address every weight by its Hugging Face name, add
 * LoRA deltas to any projection, take gradients of chosen tensors, overwrite weights in place (FILA) and run a frozen
 * copy beside a trained one. A map of named tensors and one forward function per family make each of those a line of
 * code; blocks would hide the tensors behind parameter objects and an initialisation protocol.
 */
@SuppressWarnings("try") // NoGrad is a scope guard: entering it is the point, its variable is unused
public abstract sealed class DecoderModel implements CausalLm permits LlamaModel, GptNeoModel, PhiModel {
    /** Added to masked attention scores. Finite, so a row with every key masked (left padding) stays NaN-free. */
    private static final float MASKED = -1e9f;

    private final ModelConfig config;
    private final TextTokenizer tokenizer;
    private final boolean ownsTokenizer;
    private final NDManager manager;
    private final Map<String, NDArray> params;
    /** The map {@link #params} views; {@link #releaseGradient} replaces entries. */
    private final Map<String, NDArray> weights;
    /** Every projection table the family built (they hold the weight tensors the forward pass reads). */
    private final List<LayerProjections> projectionTables = new ArrayList<>();
    private final List<LinearProjection> projections;
    private final Set<String> projectionModules;
    private final Map<String, LinearAdapter> adapters = new ConcurrentHashMap<>();
    private final int[] eosIds;
    /** The one floating type of every weight: what the forward computes in (softmaxes, norms and losses aside). */
    private final DataType weightType;
    private volatile DataType exportType;
    private volatile boolean checkpointing;
    /** Forwards recorded with activation checkpointing that {@link #backward} has not finished yet. */
    private final List<CheckpointedPass> pendingPasses = new ArrayList<>();

    /**
     * Takes ownership of {@code weights} (created in {@code manager}, which the model then closes). Every name of
     * {@link ModelConfig#parameterShapes()} must be present with that shape, all in float32 or all in float16 (the model then computes in that type, see {@link #weightType}).
     */
    DecoderModel(ModelConfig config, TextTokenizer tokenizer, boolean ownsTokenizer, Map<String, NDArray> weights,
                 NDManager manager, List<LinearProjection> projections) {
        this.config = config;
        this.tokenizer = tokenizer;
        this.ownsTokenizer = ownsTokenizer;
        this.manager = manager;
        Map<String, NDArray> ordered = new LinkedHashMap<>();
        DataType type = null;
        for (Map.Entry<String, long[]> e : config.parameterShapes().entrySet()) {
            NDArray w = weights.get(e.getKey());
            if (w == null) {
                throw new IllegalArgumentException("weight '" + e.getKey() + "' is missing");
            }
            if (!Arrays.equals(w.getShape().getShape(), e.getValue())) {
                throw new IllegalArgumentException("weight '" + e.getKey() + "' has shape " + w.getShape()
                        + ", expected " + new Shape(e.getValue()));
            }
            if (!isWeightType(w.getDataType())) {
                throw new IllegalArgumentException("weight '" + e.getKey() + "' is " + w.getDataType()
                        + ", expected float32 or float16");
            }
            if (type == null) {
                type = w.getDataType();
            } else if (w.getDataType() != type) {
                throw new IllegalArgumentException("weight '" + e.getKey() + "' is " + w.getDataType()
                        + " but the weights before it are " + type + "; a model holds one weight type");
            }
            w.setName(e.getKey());
            ordered.put(e.getKey(), w);
        }
        this.weights = ordered;
        this.params = Collections.unmodifiableMap(ordered);
        this.weightType = type == null ? DataType.FLOAT32 : type;
        this.projections = List.copyOf(projections);
        Set<String> names = new HashSet<>();
        projections.forEach(p -> names.add(p.module()));
        this.projectionModules = Collections.unmodifiableSet(names);
        Set<Integer> eos = new LinkedHashSet<>(config.eosTokenIds());
        if (tokenizer != null && tokenizer.eosId() >= 0) {
            eos.add(tokenizer.eosId());
        }
        this.eosIds = eos.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * A model of {@code config}'s family over weights already created in {@code manager} (which the model then owns
     * and closes).
     */
    public static DecoderModel of(ModelConfig config, TextTokenizer tokenizer, Map<String, NDArray> weights,
                                  NDManager manager) {
        return create(config, tokenizer, true, weights, manager);
    }

    static DecoderModel create(ModelConfig config, TextTokenizer tokenizer, boolean ownsTokenizer,
                               Map<String, NDArray> weights, NDManager manager) {
        if (config instanceof LlamaConfig c) {
            return new LlamaModel(c, tokenizer, ownsTokenizer, weights, manager);
        }
        if (config instanceof GptNeoConfig c) {
            return new GptNeoModel(c, tokenizer, ownsTokenizer, weights, manager);
        }
        return new PhiModel((PhiConfig) config, tokenizer, ownsTokenizer, weights, manager);
    }

    /**
     * A model with random weights (normal, std 0.02; norm weights 1, biases 0, as transformers initialises), for
     * benchmarks and tests. Seeds libtorch's global generator, so the same seed on the same device gives the same
     * weights.
     */
    public static DecoderModel randomInit(ModelConfig config, TextTokenizer tokenizer, long seed, Device device) {
        return randomInit(config, tokenizer, seed, device, DataType.FLOAT32);
    }

    /**
     * {@link #randomInit(ModelConfig, TextTokenizer, long, Device)} with the weights stored as {@code type}
     * (float32 or float16): each is drawn in float32 and rounded, so the same seed gives the rounded
     * float32 weights.
     */
    public static DecoderModel randomInit(ModelConfig config, TextTokenizer tokenizer, long seed, Device device,
                                          DataType type) {
        if (!isWeightType(type)) {
            throw new IllegalArgumentException("weights can be float32 or float16, not " + type
                    + (type == DataType.BFLOAT16 ? " (DJL 0.36's PyTorch JNI has no bfloat16)" : ""));
        }
        NDManager manager = newModelManager(device, config.family().modelType() + "-random");
        try {
            Engine.getEngine("PyTorch").setRandomSeed((int) seed);
            Map<String, NDArray> weights = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : config.parameterShapes().entrySet()) {
                Shape shape = new Shape(e.getValue());
                NDArray w;
                if (e.getKey().endsWith(".bias")) {
                    w = manager.zeros(shape, DataType.FLOAT32);
                } else if (shape.dimension() == 1) {
                    w = manager.ones(shape, DataType.FLOAT32); // the only 1-D weights are norm scales
                } else {
                    w = manager.randomNormal(0f, 0.02f, shape, DataType.FLOAT32);
                }
                if (type != DataType.FLOAT32) {
                    NDArray rounded = w.toType(type, false);
                    w.close();
                    w = rounded;
                }
                weights.put(e.getKey(), w);
            }
            return create(config, tokenizer, true, weights, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The weight types a model can hold (and compute in). */
    static boolean isWeightType(DataType type) {
        // bfloat16 is not among them: DJL 0.36's PyTorch JNI has no bfloat16 in its dtype mapping (creating,
        // casting to or taking a softmax of a bfloat16 array aborts the JVM; docs/engine.md "Precision").
        return type == DataType.FLOAT32 || type == DataType.FLOAT16;
    }

    /** A root manager for one model's weights, named for debug dumps. */
    static NDManager newModelManager(Device device, String name) {
        NDManager m = NDManager.newBaseManager(device);
        m.setName(name);
        return m;
    }

    /**
     * The projections of every layer, layer by layer: {@code <layerPrefix><i>.<kind>} for each of {@code kinds}
     * (e.g. {@code model.layers.} and {@code self_attn.q_proj}), shaped by the config.
     */
    static List<LinearProjection> projections(ModelConfig config, String layerPrefix, String[] kinds) {
        Map<String, long[]> shapes = config.parameterShapes();
        List<LinearProjection> out = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            for (String kind : kinds) {
                String module = layerPrefix + i + "." + kind;
                long[] s = shapes.get(module + ".weight");
                out.add(new LinearProjection(module, module + ".weight", kind.substring(kind.lastIndexOf('.') + 1),
                        i, (int) s[0], (int) s[1]));
            }
        }
        return out;
    }

    /** One layer's projections: module names, weights, and biases (null where the config has none), by kind. */
    record LayerProjections(String[] modules, NDArray[] weights, NDArray[] biases) {}

    /** The projections {@code <layerPrefix>.<kind>} of one layer, in {@code kinds}' order. */
    final LayerProjections layerProjections(String layerPrefix, String[] kinds) {
        String[] modules = new String[kinds.length];
        NDArray[] w = new NDArray[kinds.length];
        NDArray[] b = new NDArray[kinds.length];
        for (int k = 0; k < kinds.length; k++) {
            modules[k] = layerPrefix + kinds[k];
            w[k] = parameter(modules[k] + ".weight");
            b[k] = optionalParameter(modules[k] + ".bias");
        }
        LayerProjections table = new LayerProjections(modules, w, b);
        projectionTables.add(table);
        return table;
    }

    // ---- what a family defines ----------------------------------------------------------------------------------

    /** The residual stream entering layer 0, {@code [B, T, D]}: token (and, where the family has them, position) embeddings. */
    abstract NDArray embed(Step step);

    /** The weights {@link #embed} reads. */
    abstract List<NDArray> embedWeights();

    /** Layer {@code l} of the residual stream: {@code [B, T, D]} in, {@code [B, T, D]} out. */
    abstract NDArray layer(Step step, int l, NDArray x);

    /** The residual stream after the last layer, {@code [B, T, D]}, before the final norm. */
    final NDArray trunk(Step step) {
        NDArray x = embed(step);
        for (int l = 0; l < config.numLayers(); l++) {
            x = layer(step, l, x);
        }
        return x;
    }

    /** Final norm and language-model head: {@code [B, T, D]} to logits {@code [B, T, V]}. */
    abstract NDArray head(NDArray hidden);

    /** The same family's model over other weights (for {@link #copy}); the tokenizer is shared, not owned. */
    abstract DecoderModel withWeights(Map<String, NDArray> weights, NDManager manager);

    /** Positions at or beyond this cannot be embedded (learned position tables); {@code Long.MAX_VALUE} for rotary. */
    long positionLimit() {
        return Long.MAX_VALUE;
    }

    // ---- accessors ------------------------------------------------------------------------------------------

    @Override
    public String architecture() {
        return config.family().modelType();
    }

    @Override
    public ModelFamily family() {
        return config.family();
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public Device device() {
        return manager.getDevice();
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public List<String> parameterNames() {
        return List.copyOf(params.keySet());
    }

    @Override
    public NDArray parameter(String name) {
        NDArray p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'");
        }
        return p;
    }

    /** The parameter called {@code name}, or null when the config has none (an absent bias). */
    final NDArray optionalParameter(String name) {
        return params.get(name);
    }

    @Override
    public Map<String, NDArray> parameters() {
        return params;
    }

    @Override
    public void assignParameter(String name, NDArray values) {
        NDArray p = parameter(name);
        if (!p.getShape().equals(values.getShape())) {
            throw new IllegalArgumentException("cannot assign shape " + values.getShape() + " to '" + name
                    + "' of shape " + p.getShape());
        }
        try (NoGrad ignored = NoGrad.enter(); NDManager tmp = manager.newSubManager()) {
            NDArray v = values.getDataType() == p.getDataType() ? values : values.toType(p.getDataType(), false);
            if (v != values) {
                v.attach(tmp);
            }
            // A leaf that requires grad refuses in-place ops under autograd; NoGrad makes this a plain copy.
            p.set(new NDIndex("..."), v.toDevice(p.getDevice(), false));
        }
    }

    @Override
    public void releaseGradient(String name) {
        NDArray old = parameter(name);
        boolean projection = projections.stream().anyMatch(p -> p.weightName().equals(name));
        if (!projection) {
            throw new IllegalArgumentException("'" + name + "' is not the weight of a linear projection");
        }
        NDArray fresh;
        try (NoGrad ignored = NoGrad.enter()) {
            fresh = old.duplicate(); // a new leaf in the same manager: no autograd state, no .grad
        }
        fresh.setName(name);
        weights.put(name, fresh);
        for (LayerProjections t : projectionTables) {
            for (int k = 0; k < t.weights().length; k++) {
                if (t.weights()[k] == old) {
                    t.weights()[k] = fresh;
                }
            }
        }
        old.close();
    }

    @Override
    public DataType weightType() {
        return weightType;
    }

    @Override
    public DataType exportType() {
        return exportType == null ? weightType : exportType;
    }

    @Override
    public void exportAs(DataType type) {
        if (type != DataType.FLOAT32 && type != DataType.FLOAT16 && type != DataType.BFLOAT16) {
            throw new IllegalArgumentException("weights can be exported as float32, float16 or bfloat16, not " + type);
        }
        exportType = type;
    }

    @Override
    public long parameterCount() {
        return config.parameterCount();
    }

    @Override
    public List<LinearProjection> linearProjections() {
        return projections;
    }

    @Override
    public RotaryLayout rotaryLayout() {
        return RotaryLayout.HALF;
    }

    @Override
    public NDArray reorderRows(LinearProjection projection, NDArray rows, RotaryLayout from, RotaryLayout to) {
        return rows;
    }

    @Override
    public void setAdapter(String module, LinearAdapter adapter) {
        if (!projectionModules.contains(module)) {
            throw new IllegalArgumentException("no linear projection named '" + module + "'");
        }
        if (adapter == null) {
            adapters.remove(module);
        } else {
            adapters.put(module, adapter);
        }
    }

    @Override
    public LinearAdapter adapter(String module) {
        return adapters.get(module);
    }

    @Override
    public void clearAdapters() {
        adapters.clear();
    }

    // ---- public computation -----------------------------------------------------------------------------------

    @Override
    public NDArray logits(NDManager caller, TokenBatch batch) {
        try (NDManager scope = caller.newSubManager(device())) {
            NDArray out = forward(scope, batch);
            out.attach(caller);
            return out;
        }
    }

    @Override
    public NDArray tokenLogProbs(NDManager caller, TokenBatch batch) {
        try (NDManager scope = caller.newSubManager(device())) {
            NDArray out = logProbs(scope, batch);
            out.attach(caller);
            return out;
        }
    }

    @Override
    public NDArray meanNll(NDManager caller, TokenBatch batch) {
        int count = batch.targetCount();
        if (count == 0) {
            throw new IllegalArgumentException("the batch has no target tokens (every sequence has one token?)");
        }
        try (NDManager scope = caller.newSubManager(device())) {
            NDArray lp = logProbs(scope, batch);
            NDArray mask = batch.labelMaskArray(scope);
            NDArray out = Tensors.dividedBy(lp.mul(mask).sum().neg(), count);
            out.attach(caller);
            return out;
        }
    }

    @Override
    public int[][] greedyPredictions(TokenBatch batch) {
        try (NoGrad ignored = NoGrad.enter(); NDManager scope = manager.newSubManager()) {
            long[] flat = forward(scope, batch).argMax(2).toLongArray();
            int t = batch.length();
            int[][] out = new int[batch.size()][t];
            for (int r = 0; r < out.length; r++) {
                for (int c = 0; c < t; c++) {
                    out[r][c] = (int) flat[r * t + c];
                }
            }
            return out;
        }
    }

    /** log p of each actual token, aligned with ids (column 0 = 0). */
    private NDArray logProbs(NDManager scope, TokenBatch batch) {
        int t = batch.length();
        if (t == 1) {
            return scope.zeros(new Shape(batch.size(), 1), DataType.FLOAT32);
        }
        NDArray ids = batch.idsArray(scope);
        NDArray logits = forward(scope, batch);
        // The softmax runs in float32 whatever the weights' type (as autocast and PEFT's training do).
        NDArray logp = Tensors.logSoftmaxFloat32(logits.get(new NDIndex(":, 0:{}, :", t - 1)), 2);
        NDArray targets = ids.get(new NDIndex(":, 1:")).expandDims(2);
        NDArray picked = logp.gather(targets, 2).squeeze(2);
        return scope.zeros(new Shape(batch.size(), 1), DataType.FLOAT32).concat(picked, 1);
    }

    private NDArray forward(NDManager scope, TokenBatch batch) {
        int b = batch.size();
        int t = batch.length();
        int[][] ids = batch.ids();
        long[][] pos = batch.positions();
        int[][] att = batch.attentionMask();
        long[] flatIds = new long[b * t];
        long[] flatPos = new long[b * t];
        boolean[][] keyOk = new boolean[b][t];
        for (int r = 0; r < b; r++) {
            for (int c = 0; c < t; c++) {
                flatIds[r * t + c] = ids[r][c];
                flatPos[r * t + c] = pos[r][c];
                keyOk[r][c] = att[r][c] != 0;
            }
        }
        if (checkpointing && JniUtils.isGradMode()) {
            return checkpointedForward(scope, new Step(manager.newSubManager(), flatIds, flatPos, b, t, keyOk,
                    null, 0));
        }
        return decode(new Step(scope, flatIds, flatPos, b, t, keyOk, null, 0), false);
    }

    // ---- activation checkpointing -------------------------------------------------------------------------------

    /**
     * A forward recorded with activation checkpointing: its step (in a manager of its own, which holds the layer
     * inputs and lives until {@link #backward} replays the pass), the input of every layer (no graph), and the last
     * layer's output, the leaf the head's graph starts from.
     */
    private record CheckpointedPass(Step step, NDArray[] layerInputs, NDArray top) {}

    @Override
    public void setActivationCheckpointing(boolean on) {
        checkpointing = on;
    }

    @Override
    public boolean activationCheckpointing() {
        return checkpointing;
    }

    /**
     * The layers without a graph, one at a time (each layer's intermediates freed before the next), keeping only
     * every layer's input; then the head with a graph, on the last layer's output made a leaf that collects the
     * gradient {@link #replay} starts from.
     */
    private NDArray checkpointedForward(NDManager scope, Step step) {
        NDManager keep = step.scope;
        NDArray[] inputs = new NDArray[config.numLayers()];
        NDArray x;
        try (NoGrad ignored = NoGrad.enter()) {
            x = embed(step);
            for (int l = 0; l < inputs.length; l++) {
                inputs[l] = x;
                x = inLayerScope(keep, x, l, step);
            }
        } catch (RuntimeException e) {
            keep.close();
            throw e;
        }
        x.setRequiresGradient(true);
        synchronized (pendingPasses) {
            pendingPasses.add(new CheckpointedPass(step, inputs, x));
        }
        NDArray logits = head(x);
        logits.attach(scope);
        return logits;
    }

    /**
     * {@code layer(step, l, x)} with {@code x} lent to a scope of its own, so that every intermediate (DJL puts a
     * result in its first operand's manager) is freed when the layer is done; {@code x} and the output come back
     * to {@code keep}.
     */
    private NDArray inLayerScope(NDManager keep, NDArray x, int l, Step step) {
        try (NDManager layerScope = keep.newSubManager()) {
            x.attach(layerScope);
            NDArray out = layer(step, l, x);
            out.attach(keep);
            x.attach(keep);
            return out;
        }
    }

    @Override
    public void backward(GradientCollector gc, NDArray loss) {
        List<CheckpointedPass> passes;
        synchronized (pendingPasses) {
            passes = new ArrayList<>(pendingPasses);
            pendingPasses.clear();
        }
        try {
            gc.backward(loss);
            for (CheckpointedPass pass : passes) {
                replay(pass);
            }
        } finally {
            passes.forEach(p -> p.step().scope.close());
        }
    }

    /**
     * Carries one checkpointed pass's gradient from the last layer's output down to the embeddings: for each layer,
     * last to first, its forward again with a graph from its saved input (made a leaf), the backward of that
     * layer alone with the gradient of its output, and the input's gradient as the next layer's. Parameter
     * gradients add up in libtorch exactly as one backward through the whole graph would add them.
     */
    private void replay(CheckpointedPass pass) {
        Step step = pass.step();
        NDManager keep = step.scope;
        if (!pass.top().hasGradient()) {
            return; // the loss did not read this pass (or nothing below the head trains)
        }
        NDArray grad = pass.top().getGradient();
        boolean wasRecording = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            for (int l = pass.layerInputs().length - 1; l >= 0; l--) {
                NDArray input = pass.layerInputs()[l];
                try (NDManager layerScope = keep.newSubManager()) {
                    input.attach(layerScope);
                    input.setRequiresGradient(true);
                    NDArray out = layer(step, l, input);
                    JniUtils.backward((PtNDArray) out, (PtNDArray) grad, false, false);
                    grad.close();
                    grad = input.getGradient();
                    grad.attach(keep);
                }
            }
            // (libtorch's requires_grad flag is read on the weights: the JNI reports it only for leaves)
            if (embedWeights().stream().anyMatch(w -> JniUtils.requiresGrad((PtNDArray) w))) {
                JniUtils.backward((PtNDArray) embed(step), (PtNDArray) grad, false, false);
            }
        } finally {
            JniUtils.setGradMode(wasRecording);
            grad.close();
        }
    }

    // ---- generation -------------------------------------------------------------------------------------------

    @Override
    public List<int[]> generateGreedy(List<int[]> prompts, int[] maxNewTokens, boolean stopAtEos) {
        if (prompts.size() != maxNewTokens.length) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + maxNewTokens.length + " limits");
        }
        int[] lengths = new int[prompts.size()];
        for (int r = 0; r < lengths.length; r++) {
            if (prompts.get(r).length == 0) {
                throw new IllegalArgumentException("prompt " + r + " is empty; start it with the BOS id");
            }
            lengths[r] = prompts.get(r).length;
        }
        return generate(lengths, maxNewTokens, stopAtEos, g -> g.prefillPrompts(prompts));
    }

    @Override
    public List<int[]> generateGreedyFromPrefixes(List<int[]> sequences, int[] sequenceOfRow, int[] prefixLengths,
                                                  int[] maxNewTokens, boolean stopAtEos) {
        int rows = sequenceOfRow.length;
        if (prefixLengths.length != rows || maxNewTokens.length != rows) {
            throw new IllegalArgumentException("sequenceOfRow, prefixLengths and maxNewTokens must have one entry"
                    + " per row");
        }
        for (int r = 0; r < rows; r++) {
            if (sequenceOfRow[r] < 0 || sequenceOfRow[r] >= sequences.size()) {
                throw new IllegalArgumentException("row " + r + " names sequence " + sequenceOfRow[r] + " of "
                        + sequences.size());
            }
            int len = sequences.get(sequenceOfRow[r]).length;
            if (prefixLengths[r] < 1 || prefixLengths[r] > len) {
                throw new IllegalArgumentException("row " + r + ": prefix length " + prefixLengths[r]
                        + " outside 1.." + len);
            }
        }
        return generate(prefixLengths.clone(), maxNewTokens, stopAtEos,
                g -> g.prefillFromSequences(sequences, sequenceOfRow));
    }

    private List<int[]> generate(int[] promptLengths, int[] maxNewTokens, boolean stopAtEos,
                                 Consumer<Generation> prefill) {
        int rows = promptLengths.length;
        int promptLen = 0;
        int maxNew = 0;
        for (int r = 0; r < rows; r++) {
            if (maxNewTokens[r] < 0) {
                throw new IllegalArgumentException("maxNewTokens[" + r + "] is negative");
            }
            promptLen = Math.max(promptLen, promptLengths[r]);
            maxNew = Math.max(maxNew, maxNewTokens[r]);
        }
        int[][] produced = new int[rows][];
        int[] count = new int[rows];
        for (int r = 0; r < rows; r++) {
            produced[r] = new int[maxNewTokens[r]];
        }
        if (rows > 0 && maxNew > 0) {
            try (NoGrad ignored = NoGrad.enter(); NDManager scope = manager.newSubManager()) {
                Generation g = new Generation(scope, promptLengths, maxNewTokens, stopAtEos, promptLen, maxNew,
                        produced, count);
                prefill.accept(g);
                g.decodeLoop();
            }
        }
        List<int[]> results = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            results.add(Arrays.copyOf(produced[r], count[r]));
        }
        return results;
    }

    /**
     * One batched greedy decode. Prompts sit left-padded in a preallocated cache of {@code promptLen + maxNew}
     * columns; a prefill fills the prompt columns and yields each row's first token; then every step feeds one token
     * per row. Finished rows are dropped from the batch (and the cache) once a quarter of the rows are done, so rows
     * with short budgets stop costing work. A row's tokens occupy consecutive columns, so column distance is
     * position distance, which is what sliding windows measure.
     */
    private final class Generation {
        private final NDManager scope;
        private final int[] promptLength;
        private final int[] budget;
        private final boolean stopAtEos;
        private final int promptLen;
        private final int[][] produced;
        private final int[] count;
        private final int capacity;
        private int[] rowOf;            // batch row -> original row
        private boolean[][] keyOk;      // batch row -> cache column -> real token
        private final NDArray[] keys;
        private final NDArray[] values;
        private long[] next;            // batch row -> greedy token to emit next

        Generation(NDManager scope, int[] promptLength, int[] budget, boolean stopAtEos, int promptLen, int maxNew,
                   int[][] produced, int[] count) {
            this.scope = scope;
            this.promptLength = promptLength;
            this.budget = budget;
            this.stopAtEos = stopAtEos;
            this.promptLen = promptLen;
            this.produced = produced;
            this.count = count;
            this.capacity = promptLen + maxNew;
            this.keys = new NDArray[config.numLayers()];
            this.values = new NDArray[config.numLayers()];
            int rows = promptLength.length;
            rowOf = new int[rows];
            keyOk = new boolean[rows][capacity];
            for (int r = 0; r < rows; r++) {
                rowOf[r] = r;
                for (int c = promptLen - promptLength[r]; c < promptLen; c++) {
                    keyOk[r][c] = true;
                }
            }
            Shape cacheShape = new Shape(rows, config.numKvHeads(), capacity, config.headDim());
            for (int l = 0; l < keys.length; l++) {
                keys[l] = scope.zeros(cacheShape, weightType);
                values[l] = scope.zeros(cacheShape, weightType);
            }
        }

        /** Runs the left-padded prompts through the model, filling the cache's prompt columns. */
        void prefillPrompts(List<int[]> prompts) {
            int rows = prompts.size();
            long[] ids = new long[rows * promptLen];
            long[] pos = new long[rows * promptLen];
            for (int r = 0; r < rows; r++) {
                int[] p = prompts.get(r);
                int off = promptLen - p.length;
                for (int c = 0; c < promptLen; c++) {
                    boolean real = c >= off;
                    ids[r * promptLen + c] = real ? p[c - off] : padId();
                    pos[r * promptLen + c] = real ? c - off : 0;
                }
            }
            try (NDManager step = scope.newSubManager()) {
                next = decode(new Step(step, ids, pos, rows, promptLen, keyOk, new Cache(keys, values), 0), true)
                        .argMax(2).toLongArray();
            }
        }

        /**
         * Prefills rows that are prefixes of known sequences. Under causal attention the keys and values at position
         * p depend only on tokens 0..p, so one pass over each whole sequence yields every prefix's cache entries and,
         * from its logits at position p - 1, every prefix's first greedy token.
         */
        void prefillFromSequences(List<int[]> sequences, int[] sequenceOfRow) {
            int n = sequences.size();
            int len = promptLen; // no row needs keys beyond its own prefix
            int kv = config.numKvHeads() * config.headDim();
            long[] firstTokens = new long[n * len];
            NDArray[] seqKeys = new NDArray[keys.length];
            NDArray[] seqValues = new NDArray[keys.length];
            try (NDManager pass = scope.newSubManager()) {
                // Sequences in chunks, so that the chunk's logits stay near 32M floats.
                int chunk = (int) Math.max(1, Math.min(n, (32L << 20) / ((long) len * config.vocabSize())));
                List<List<NDArray>> keyParts = new ArrayList<>();
                List<List<NDArray>> valueParts = new ArrayList<>();
                for (int l = 0; l < keys.length; l++) {
                    keyParts.add(new ArrayList<>());
                    valueParts.add(new ArrayList<>());
                }
                for (int from = 0; from < n; from += chunk) {
                    int to = Math.min(n, from + chunk);
                    int b = to - from;
                    long[] ids = new long[b * len];
                    long[] pos = new long[b * len];
                    boolean[][] ok = new boolean[b][len];
                    for (int i = 0; i < b; i++) {
                        int[] s = sequences.get(from + i);
                        for (int c = 0; c < len; c++) {
                            boolean real = c < s.length;
                            ids[i * len + c] = real ? s[c] : padId();
                            pos[i * len + c] = c;
                            ok[i][c] = real;
                        }
                    }
                    NDArray[] ck = new NDArray[keys.length];
                    NDArray[] cv = new NDArray[keys.length];
                    Shape shape = new Shape(b, config.numKvHeads(), len, config.headDim());
                    for (int l = 0; l < keys.length; l++) {
                        ck[l] = pass.zeros(shape, weightType);
                        cv[l] = pass.zeros(shape, weightType);
                        keyParts.get(l).add(ck[l]);
                        valueParts.get(l).add(cv[l]);
                    }
                    try (NDManager step = pass.newSubManager()) {
                        NDArray logits = decode(new Step(step, ids, pos, b, len, ok, new Cache(ck, cv), 0), false);
                        System.arraycopy(logits.argMax(2).toLongArray(), 0, firstTokens, from * len, b * len);
                    }
                }
                for (int l = 0; l < keys.length; l++) {
                    seqKeys[l] = concat(keyParts.get(l));
                    seqValues[l] = concat(valueParts.get(l));
                }
                // Row r's prompt occupies columns [promptLen - p_r, promptLen): gather those positions of its sequence.
                int rows = sequenceOfRow.length;
                long[] index = new long[rows * promptLen];
                next = new long[rows];
                for (int r = 0; r < rows; r++) {
                    int off = promptLen - promptLength[r];
                    for (int c = off; c < promptLen; c++) {
                        index[r * promptLen + c] = (long) sequenceOfRow[r] * len + (c - off);
                    }
                    next[r] = firstTokens[sequenceOfRow[r] * len + promptLength[r] - 1];
                }
                NDArray idx = Tensors.of(pass, index, new Shape(rows, promptLen));
                NDIndex promptColumns = new NDIndex(":, :, 0:{}", promptLen);
                for (int l = 0; l < keys.length; l++) {
                    keys[l].set(promptColumns, gatherPositions(seqKeys[l], idx, kv));
                    values[l].set(promptColumns, gatherPositions(seqValues[l], idx, kv));
                }
            }
        }

        private NDArray concat(List<NDArray> parts) {
            NDArray out = parts.get(0);
            for (int i = 1; i < parts.size(); i++) {
                out = out.concat(parts.get(i), 0);
            }
            return out;
        }

        /** {@code src [n, Hkv, L, hd]}, {@code index [rows, P]} into the flattened (sequence, position) axis. */
        private NDArray gatherPositions(NDArray src, NDArray index, int kv) {
            long n = src.getShape().get(0);
            long len = src.getShape().get(2);
            NDArray flat = src.transpose(0, 2, 1, 3).reshape(n * len, kv);
            // An embedding lookup is a row gather: row (sequence * L + position) for every cache cell.
            NDArray rows = Embedding.embedding(index, flat, SparseFormat.DENSE).singletonOrThrow();
            Shape is = index.getShape();
            return rows.reshape(is.get(0), is.get(1), config.numKvHeads(), config.headDim()).transpose(0, 2, 1, 3);
        }

        void decodeLoop() {
            int filled = promptLen;
            while (true) {
                boolean anyActive = false;
                int done = 0;
                for (int i = 0; i < rowOf.length; i++) {
                    int r = rowOf[i];
                    if (isDone(r)) {
                        done++;
                        continue;
                    }
                    produced[r][count[r]++] = (int) next[i];
                    if (isDone(r)) {
                        done++;
                    } else {
                        anyActive = true;
                    }
                }
                if (!anyActive) {
                    return;
                }
                if (done > 0 && done * 4 >= rowOf.length) {
                    compact();
                }
                int n = rowOf.length;
                long[] tokIds = new long[n];
                long[] tokPos = new long[n];
                for (int i = 0; i < n; i++) {
                    int r = rowOf[i];
                    boolean active = !isDone(r);
                    tokIds[i] = active ? produced[r][count[r] - 1] : padId();
                    tokPos[i] = promptLength[r] + count[r] - 1;
                    keyOk[i][filled] = active;
                }
                try (NDManager step = scope.newSubManager()) {
                    next = decode(new Step(step, tokIds, tokPos, n, 1, keyOk, new Cache(keys, values), filled), true)
                            .argMax(2).toLongArray();
                }
                filled++;
            }
        }

        private boolean isDone(int r) {
            if (count[r] >= budget[r]) {
                return true;
            }
            return stopAtEos && count[r] > 0 && isEos(produced[r][count[r] - 1]);
        }

        /** Keeps only unfinished rows in the batch and the cache. */
        private void compact() {
            List<Integer> keep = new ArrayList<>();
            for (int i = 0; i < rowOf.length; i++) {
                if (!isDone(rowOf[i])) {
                    keep.add(i);
                }
            }
            long[] idx = keep.stream().mapToLong(Integer::longValue).toArray();
            try (NDManager tmp = scope.newSubManager()) {
                NDArray index = Tensors.of(tmp, idx);
                for (int l = 0; l < keys.length; l++) {
                    NDArray k = keys[l].get(scope, new NDIndex("{}", index));
                    NDArray v = values[l].get(scope, new NDIndex("{}", index));
                    keys[l].close();
                    values[l].close();
                    keys[l] = k;
                    values[l] = v;
                }
            }
            int[] newRowOf = new int[idx.length];
            boolean[][] newKeyOk = new boolean[idx.length][];
            for (int i = 0; i < idx.length; i++) {
                newRowOf[i] = rowOf[(int) idx[i]];
                newKeyOk[i] = keyOk[(int) idx[i]];
            }
            rowOf = newRowOf;
            keyOk = newKeyOk;
        }
    }

    /** The generation cache: per layer, keys and values {@code [rows, Hkv, columns, hd]}. */
    private record Cache(NDArray[] keys, NDArray[] values) {}

    private boolean isEos(int id) {
        for (int e : eosIds) {
            if (e == id) {
                return true;
            }
        }
        return false;
    }

    private int padId() {
        if (tokenizer != null) {
            return tokenizer.padId();
        }
        return config.padTokenId() >= 0 ? config.padTokenId() : 0;
    }

    // ---- the decoder ------------------------------------------------------------------------------------------

    /** The family's trunk, then (for the last column only, when asked) its head. */
    private NDArray decode(Step step, boolean lastOnly) {
        NDArray x = trunk(step);
        if (lastOnly && step.t > 1) {
            x = x.get(new NDIndex(":, {}:, :", step.t - 1));
        }
        return head(x);
    }

    /**
     * One forward pass's inputs, shared by every layer: ids and positions int64 {@code [B, T]} in the pass's scope
     * (every intermediate is created from them, so it lands in that scope: DJL attaches results to the first
     * operand's manager), which key columns hold real tokens, and the cache. With a cache, keys and values are
     * written at columns {@code [start, start + T)} and attention runs over columns {@code [0, start + T)}.
     */
    final class Step {
        final NDArray ids;
        final NDArray positions;
        /** The largest position in {@link #positions}. */
        final long maxPosition;
        final long b;
        final int t;
        private final NDManager scope;
        private final boolean[][] keyOk;
        private final Cache cache;
        private final int start;
        private final Map<Integer, NDArray> biasByWindow = new HashMap<>();
        /** What a family computes once per pass and every layer reads (rotary angles), by type. */
        private final Map<Class<?>, Object> shared = new HashMap<>();

        Step(NDManager scope, long[] ids, long[] positions, int b, int t, boolean[][] keyOk, Cache cache,
             int start) {
            long max = 0;
            for (long p : positions) {
                max = Math.max(max, p);
            }
            if (max >= positionLimit()) {
                throw new IllegalArgumentException("position " + max + " is beyond the model's "
                        + positionLimit() + " position embeddings (max_position_embeddings)");
            }
            this.scope = scope;
            this.ids = Tensors.of(scope, ids, new Shape(b, t));
            this.positions = Tensors.of(scope, positions, new Shape(b, t));
            this.maxPosition = max;
            this.b = b;
            this.t = t;
            this.keyOk = keyOk;
            this.cache = cache;
            this.start = start;
        }

        /** The pass's one value of {@code type}, made by {@code make} the first time a layer asks. */
        <T> T shared(Class<T> type, Supplier<T> make) {
            return type.cast(shared.computeIfAbsent(type, k -> make.get()));
        }

        /**
         * Attention of layer {@code layer}: {@code q [B, H, T, hd]}, {@code k, v [B, Hkv, T, hd]} (positions already
         * encoded) to the heads' outputs {@code [B, T, H·hd]}, scores multiplied by {@code scale}, softmax over the
         * keys each query may see: earlier or equal columns holding real tokens, and within the layer's sliding
         * window when it has one.
         */
        NDArray attend(int layer, NDArray q, NDArray k, NDArray v, double scale) {
            int heads = config.numHeads();
            int kvHeads = config.numKvHeads();
            int hd = config.headDim();
            int group = heads / kvHeads;
            int s = start + t;
            if (cache != null) {
                NDIndex written = new NDIndex(":, :, {}:{}", start, s);
                cache.keys()[layer].set(written, k);
                cache.values()[layer].set(written, v);
                NDIndex visible = new NDIndex(":, :, 0:{}", s);
                k = cache.keys()[layer].get(scope, visible);
                v = cache.values()[layer].get(scope, visible);
            }
            // Query heads g*group .. g*group+group-1 share KV head g: fold them into the row axis of one matmul.
            NDArray qg = scale == 1.0 ? q : Tensors.times(q, scale);
            NDArray scores = qg.reshape(b, kvHeads, (long) group * t, hd).matMul(k.transpose(0, 1, 3, 2))
                    .reshape(b, kvHeads, group, t, s);
            NDArray probs;
            if (weightType == DataType.FLOAT32) {
                probs = scores.add(bias(config.attentionWindow(layer))).softmax(4);
            } else {
                // Low-precision weights: the softmax in float32, its result back in the weights' type (as
                // transformers' eager attention does).
                probs = Tensors.cast(Tensors.softmaxFloat32(Tensors.cast(scores, DataType.FLOAT32)
                        .add(bias(config.attentionWindow(layer))), 4), weightType);
            }
            probs = probs.reshape(b, kvHeads, (long) group * t, s);
            return probs.matMul(v).reshape(b, heads, t, hd).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * hd);
        }

        /**
         * Additive attention bias {@code [B, 1, 1, T, S]}: 0 where query i (at column {@code start + i}) may see key
         * column j (j &le; start + i, within {@code window} columns when it is positive, and j holds a real token),
         * {@link #MASKED} elsewhere. One per window size and pass.
         */
        private NDArray bias(int window) {
            return biasByWindow.computeIfAbsent(window, w -> {
                int s = start + t;
                float[] key = new float[(int) b * s];
                for (int r = 0; r < b; r++) {
                    for (int j = 0; j < s; j++) {
                        key[r * s + j] = keyOk[r][j] ? 0f : MASKED;
                    }
                }
                NDArray keyBias = Tensors.of(scope, key, new Shape(b, 1, 1, 1, s));
                if (t == 1 && start == s - 1 && (w == 0 || s <= w)) {
                    return keyBias; // a single newest query may see every earlier column
                }
                float[] causal = new float[t * s];
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < s; j++) {
                        int distance = start + i - j;
                        causal[i * s + j] = distance >= 0 && (w == 0 || distance < w) ? 0f : MASKED;
                    }
                }
                return keyBias.add(Tensors.of(scope, causal, new Shape(1, 1, 1, t, s)));
            });
        }
    }

    /** Projection {@code k} of a layer applied to {@code x}: {@code x·Wᵀ + b}, plus its adapter's delta. */
    final NDArray project(LayerProjections layer, int k, NDArray x) {
        return project(x, layer.weights()[k], layer.biases()[k], layer.modules()[k]);
    }

    /** {@code x·Wᵀ + b} of the projection {@code module}, plus its adapter's delta when one is installed. */
    private NDArray project(NDArray x, NDArray weight, NDArray bias, String module) {
        NDArray y = linear(x, weight, bias);
        LinearAdapter adapter = adapters.get(module);
        if (adapter != null) {
            if (weightType == DataType.FLOAT32) {
                NDArray delta = adapter.delta(x);
                if (delta.getManager() != x.getManager()) {
                    delta.attach(x.getManager());
                }
                return y.add(delta);
            }
            // Adapters are float32 over low-precision weights: their input is widened, the sum taken in float32
            // and the result rounded back, as PEFT's lora.Linear does under a bfloat16 base.
            NDArray delta = adapter.delta(Tensors.cast(x, DataType.FLOAT32));
            if (delta.getManager() != x.getManager()) {
                delta.attach(x.getManager());
            }
            y = Tensors.cast(Tensors.cast(y, DataType.FLOAT32).add(delta), weightType);
        }
        return y;
    }

    /** Row counts up to which {@link #linear} may compute {@code x·Wᵀ} as {@code (W·xᵀ)ᵀ}. */
    static final long FEW_ROWS = 32;

    /**
     * How {@link #linear} takes few-row products: {@code auto} (each shape timed once in this process, the faster
     * form kept), {@code linear} or {@code transposed}; the system property {@code loku.few-rows-linear}.
     */
    static final String FEW_ROWS_FORM = System.getProperty("loku.few-rows-linear", "auto");

    /** Per {@code [rows, in, out]}: whether {@code (W·xᵀ)ᵀ} beat libtorch's {@code linear} when timed here. */
    private static final Map<List<Long>, Boolean> TRANSPOSED_FASTER = new ConcurrentHashMap<>();

    /**
     * {@code x·Wᵀ + b} for {@code x [..., in]} and {@code W [out, in]}. libtorch hands {@code x·Wᵀ} to MKL's sgemm,
     * which first copies (packs) all of W into its own layout; for a few rows (a decode step: one token per
     * sequence) that copy can cost more than the product, and {@code (W·xᵀ)ᵀ} reads W where it lies. Which form
     * wins depends on the CPU and on MKL's kernels for it (measured in docs/performance.md: 3x for the head on one
     * machine, 20% slower on another), so for up to {@link #FEW_ROWS} rows of float32 on the CPU each shape is timed
     * once, on its first call, and the faster form is kept for the process.
     */
    static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        Shape shape = x.getShape();
        long in = shape.get(shape.dimension() - 1);
        long rows = shape.size() / in;
        if (rows > FEW_ROWS || x.getDataType() != DataType.FLOAT32 || weight.getDataType() != DataType.FLOAT32
                || !x.getDevice().getDeviceType().equals(Device.Type.CPU)
                || !transposedFaster(x, weight, rows, in)) {
            return libtorchLinear(x, weight, bias);
        }
        return transposedLinear(x, weight, bias);
    }

    /** The form {@link #linear} keeps for {@code [rows, in] x [out, in]ᵀ}, if it has timed that shape yet. */
    static Boolean transposedFasterFor(long rows, long in, long out) {
        return TRANSPOSED_FASTER.get(List.of(rows, in, out));
    }

    private static NDArray libtorchLinear(NDArray x, NDArray weight, NDArray bias) {
        return bias == null ? Linear.linear(x, weight).singletonOrThrow()
                : Linear.linear(x, weight, bias).singletonOrThrow();
    }

    /** {@code x·Wᵀ + b} taken as {@code (W·xᵀ)ᵀ}, the result in {@code x}'s manager. */
    static NDArray transposedLinear(NDArray x, NDArray weight, NDArray bias) {
        Shape shape = x.getShape();
        long in = shape.get(shape.dimension() - 1);
        long rows = shape.size() / in;
        NDArray product = weight.matMul(x.reshape(rows, in).transpose());
        product.attach(x.getManager()); // DJL puts a result in its first operand's manager: here the weights'
        NDArray y = product.transpose();
        if (bias != null) {
            y = y.add(bias);
        }
        long out = weight.getShape().get(0);
        return y.reshape(shape.slice(0, shape.dimension() - 1).add(out));
    }

    private static boolean transposedFaster(NDArray x, NDArray weight, long rows, long in) {
        switch (FEW_ROWS_FORM) {
            case "linear":
                return false;
            case "transposed":
                return true;
            default:
                break;
        }
        List<Long> key = List.of(rows, in, weight.getShape().get(0));
        Boolean known = TRANSPOSED_FASTER.get(key);
        if (known != null) {
            return known;
        }
        TRANSPOSED_FASTER.putIfAbsent(key, timeBothForms(x, weight));
        return TRANSPOSED_FASTER.get(key);
    }

    /**
     * Times both forms on these operands (no bias, autograd off, results freed): one untimed call of each, then
     * five alternating calls; the form with the lower minimum wins. The head's shape costs tens of milliseconds,
     * once per process.
     */
    private static boolean timeBothForms(NDArray x, NDArray weight) {
        long[] best = {Long.MAX_VALUE, Long.MAX_VALUE};
        try (NoGrad ignored = NoGrad.enter(); NDManager scope = x.getManager().newSubManager()) {
            x.tempAttach(scope); // back in its own manager when the scope closes; every result is freed with it
            for (int rep = 0; rep < 6; rep++) {
                for (int form = 0; form < 2; form++) {
                    long start = System.nanoTime();
                    NDArray y = form == 0 ? libtorchLinear(x, weight, null) : transposedLinear(x, weight, null);
                    y.reshape(-1).getFloat(0); // eager on the CPU; reading a value keeps the call from being elided
                    long took = System.nanoTime() - start;
                    if (rep > 0) {
                        best[form] = Math.min(best[form], took);
                    }
                }
            }
        }
        return best[1] < best[0];
    }

    /** Splits {@code [B, T, heads·hd]} into {@code [B, heads, T, hd]}. */
    final NDArray heads(NDArray x, long b, int t, int heads) {
        return x.reshape(b, t, heads, config.headDim()).transpose(0, 2, 1, 3);
    }

    // ---- lifecycle --------------------------------------------------------------------------------------------

    @Override
    public CausalLm copy() {
        NDManager target = newModelManager(device(), architecture() + "-copy");
        try (NoGrad ignored = NoGrad.enter()) {
            Map<String, NDArray> weights = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray c = e.getValue().duplicate();
                c.attach(target);
                weights.put(e.getKey(), c);
            }
            CausalLm copy = withWeights(weights, target);
            copy.exportAs(exportType());
            return copy;
        } catch (RuntimeException e) {
            target.close();
            throw e;
        }
    }

    @Override
    public void close() {
        adapters.clear();
        manager.close();
        if (ownsTokenizer && tokenizer instanceof AutoCloseable) {
            try {
                ((AutoCloseable) tokenizer).close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the tokenizer failed", e);
            }
        }
    }
}
