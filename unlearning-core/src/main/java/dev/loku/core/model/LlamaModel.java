package dev.loku.core.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import dev.loku.core.tensor.Tensors;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Llama-family decoder written as plain NDArray operations over named weight tensors.
 *
 * <p>Why not DJL's Block classes: the unlearning engine must address every weight by its Hugging Face name, add
 * LoRA deltas to any projection, take gradients of chosen tensors, overwrite weights in place (FILA) and run a frozen
 * copy beside a trained one. A map of named tensors and one forward function make each of those a line of code;
 * blocks would hide the tensors behind parameter objects and an initialisation protocol.
 *
 * <p>Per layer: {@code x += o(attn(rope(q(n1(x))), rope(k(n1(x))), v(n1(x))))}; {@code x += down(silu(gate(n2(x))) *
 * up(n2(x)))}; then a final RMSNorm and the (possibly tied) head. RMSNorm is {@code w * x / sqrt(mean(x²) + eps)}.
 * Grouped-query attention shares each KV head among {@code numHeads / numKvHeads} consecutive query heads.
 */
@SuppressWarnings("try") // NoGrad is a scope guard: entering it is the point, its variable is unused
public final class LlamaModel implements CausalLm {
    /** Added to masked attention scores. Finite, so a row with every key masked (left padding) stays NaN-free. */
    private static final float MASKED = -1e9f;

    private final LlamaConfig config;
    private final TextTokenizer tokenizer;
    private final boolean ownsTokenizer;
    private final NDManager manager;
    private final Map<String, NDArray> params;
    private final Layer[] layers;
    private final NDArray embed;
    private final NDArray finalNorm;
    private final NDArray head;
    private final List<LinearProjection> projections;
    private final Set<String> projectionModules;
    private final Map<String, LinearAdapter> adapters = new ConcurrentHashMap<>();
    private final int[] eosIds;
    private volatile RopeTables rope;

    private record Layer(NDArray inNorm, NDArray q, NDArray k, NDArray v, NDArray o, NDArray postNorm,
                         NDArray gate, NDArray up, NDArray down, String[] modules) {}

    /** cos and sin of position × frequency, {@code [positions, headDim/2]}, in the model's manager. */
    private record RopeTables(int positions, NDArray cos, NDArray sin) {}

    /**
     * Wraps weights already created in {@code manager} (which the model then owns and closes). Names are Hugging
     * Face names; every name of {@link LlamaConfig#parameterShapes()} must be present with that shape.
     */
    public static LlamaModel of(LlamaConfig config, TextTokenizer tokenizer, Map<String, NDArray> weights,
                                NDManager manager) {
        return new LlamaModel(config, tokenizer, true, weights, manager);
    }

    /**
     * A model with random weights (normal, std 0.02; norms 1), for benchmarks and tests. Seeds libtorch's global
     * generator, so the same seed on the same device gives the same weights.
     */
    public static LlamaModel randomInit(LlamaConfig config, TextTokenizer tokenizer, long seed, Device device) {
        NDManager manager = newModelManager(device, "llama-random");
        try {
            Engine.getEngine("PyTorch").setRandomSeed((int) seed);
            Map<String, NDArray> weights = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : config.parameterShapes().entrySet()) {
                Shape shape = new Shape(e.getValue());
                NDArray w = e.getKey().endsWith("norm.weight")
                        ? manager.ones(shape, DataType.FLOAT32)
                        : manager.randomNormal(0f, 0.02f, shape, DataType.FLOAT32);
                weights.put(e.getKey(), w);
            }
            return new LlamaModel(config, tokenizer, true, weights, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** A root manager for one model's weights, named for debug dumps. */
    static NDManager newModelManager(Device device, String name) {
        NDManager m = NDManager.newBaseManager(device);
        m.setName(name);
        return m;
    }

    private LlamaModel(LlamaConfig config, TextTokenizer tokenizer, boolean ownsTokenizer,
                       Map<String, NDArray> weights, NDManager manager) {
        this.config = config;
        this.tokenizer = tokenizer;
        this.ownsTokenizer = ownsTokenizer;
        this.manager = manager;
        Map<String, long[]> shapes = config.parameterShapes();
        Map<String, NDArray> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            NDArray w = weights.get(e.getKey());
            if (w == null) {
                throw new IllegalArgumentException("weight '" + e.getKey() + "' is missing");
            }
            if (!Arrays.equals(w.getShape().getShape(), e.getValue())) {
                throw new IllegalArgumentException("weight '" + e.getKey() + "' has shape " + w.getShape()
                        + ", expected " + new Shape(e.getValue()));
            }
            if (w.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("weight '" + e.getKey() + "' is " + w.getDataType()
                        + ", expected float32");
            }
            w.setName(e.getKey());
            ordered.put(e.getKey(), w);
        }
        this.params = Collections.unmodifiableMap(ordered);
        this.layers = new Layer[config.numLayers()];
        List<LinearProjection> projs = new ArrayList<>();
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            String[] kinds = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
            String[] modules = new String[kinds.length];
            for (int k = 0; k < kinds.length; k++) {
                modules[k] = p + kinds[k];
                long[] s = shapes.get(modules[k] + ".weight");
                projs.add(new LinearProjection(modules[k], modules[k] + ".weight",
                        kinds[k].substring(kinds[k].indexOf('.') + 1), i, (int) s[0], (int) s[1]));
            }
            layers[i] = new Layer(ordered.get(p + "input_layernorm.weight"), ordered.get(modules[0] + ".weight"),
                    ordered.get(modules[1] + ".weight"), ordered.get(modules[2] + ".weight"),
                    ordered.get(modules[3] + ".weight"), ordered.get(p + "post_attention_layernorm.weight"),
                    ordered.get(modules[4] + ".weight"), ordered.get(modules[5] + ".weight"),
                    ordered.get(modules[6] + ".weight"), modules);
        }
        this.projections = List.copyOf(projs);
        Set<String> names = new HashSet<>();
        projs.forEach(pr -> names.add(pr.module()));
        this.projectionModules = Collections.unmodifiableSet(names);
        this.embed = ordered.get("model.embed_tokens.weight");
        this.finalNorm = ordered.get("model.norm.weight");
        this.head = config.tieWordEmbeddings() ? embed : ordered.get("lm_head.weight");
        Set<Integer> eos = new java.util.LinkedHashSet<>(config.eosTokenIds());
        if (tokenizer != null && tokenizer.eosId() >= 0) {
            eos.add(tokenizer.eosId());
        }
        this.eosIds = eos.stream().mapToInt(Integer::intValue).toArray();
        this.rope = buildRope(Math.max(config.maxPositionEmbeddings(), 1));
    }

    // ---- accessors ------------------------------------------------------------------------------------------

    @Override
    public String architecture() {
        return "llama";
    }

    @Override
    public LlamaConfig config() {
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
            NDArray v = values.getDataType() == DataType.FLOAT32 ? values : values.toType(DataType.FLOAT32, false);
            if (v != values) {
                v.attach(tmp);
            }
            // A leaf that requires grad refuses in-place ops under autograd; NoGrad makes this a plain copy.
            p.set(new NDIndex("..."), v.toDevice(p.getDevice(), false));
        }
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
            NDArray out = forward(scope, batch, false);
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
            long[] flat = forward(scope, batch, false).argMax(2).toLongArray();
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
        NDArray ids = batch.idsArray(scope);
        if (t == 1) {
            return scope.zeros(new Shape(batch.size(), 1), DataType.FLOAT32);
        }
        NDArray logits = forward(scope, batch, false);
        NDArray logp = logits.get(new NDIndex(":, 0:{}, :", t - 1)).logSoftmax(2);
        NDArray targets = ids.get(new NDIndex(":, 1:")).expandDims(2);
        NDArray picked = logp.gather(targets, 2).squeeze(2);
        return scope.zeros(new Shape(batch.size(), 1), DataType.FLOAT32).concat(picked, 1);
    }

    private NDArray forward(NDManager scope, TokenBatch batch, boolean lastOnly) {
        int b = batch.size();
        int t = batch.length();
        NDArray ids = batch.idsArray(scope);
        NDArray positions = batch.positionsArray(scope);
        int[][] att = batch.attentionMask();
        boolean[][] keyOk = new boolean[b][t];
        for (int r = 0; r < b; r++) {
            for (int c = 0; c < t; c++) {
                keyOk[r][c] = att[r][c] != 0;
            }
        }
        NDArray bias = attentionBias(scope, keyOk, 0, t, t);
        return decode(ids, positions, bias, null, 0, lastOnly);
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
                                 java.util.function.Consumer<Generation> prefill) {
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
     * with short budgets stop costing work.
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
                keys[l] = scope.zeros(cacheShape, DataType.FLOAT32);
                values[l] = scope.zeros(cacheShape, DataType.FLOAT32);
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
                NDArray idArr = Tensors.of(step, ids, new Shape(rows, promptLen));
                NDArray posArr = Tensors.of(step, pos, new Shape(rows, promptLen));
                NDArray bias = attentionBias(step, keyOk, 0, promptLen, promptLen);
                next = decode(idArr, posArr, bias, new Cache(step, keys, values), 0, true).argMax(2).toLongArray();
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
            int kv = config.kvDim();
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
                        ck[l] = pass.zeros(shape, DataType.FLOAT32);
                        cv[l] = pass.zeros(shape, DataType.FLOAT32);
                        keyParts.get(l).add(ck[l]);
                        valueParts.get(l).add(cv[l]);
                    }
                    try (NDManager step = pass.newSubManager()) {
                        NDArray logits = decode(Tensors.of(step, ids, new Shape(b, len)),
                                Tensors.of(step, pos, new Shape(b, len)), attentionBias(step, ok, 0, len, len),
                                new Cache(step, ck, cv), 0, false);
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
                    NDArray idArr = Tensors.of(step, tokIds, new Shape(n, 1));
                    NDArray posArr = Tensors.of(step, tokPos, new Shape(n, 1));
                    NDArray bias = attentionBias(step, keyOk, filled, 1, filled + 1);
                    next = decode(idArr, posArr, bias, new Cache(step, keys, values), filled, true).argMax(2)
                            .toLongArray();
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

    /** Views of the generation cache for one step; slices are created in the step's manager. */
    private record Cache(NDManager step, NDArray[] keys, NDArray[] values) {}

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

    /**
     * Additive attention bias {@code [B, 1, 1, T, S]}: 0 where query i (at cache column {@code start + i}) may see key
     * column j (j &le; start + i and j holds a real token), {@link #MASKED} elsewhere.
     */
    private static NDArray attentionBias(NDManager m, boolean[][] keyOk, int start, int t, int s) {
        int b = keyOk.length;
        float[] key = new float[b * s];
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < s; j++) {
                key[r * s + j] = keyOk[r][j] ? 0f : MASKED;
            }
        }
        NDArray keyBias = Tensors.of(m, key, new Shape(b, 1, 1, 1, s));
        if (t == 1 && start == s - 1) {
            return keyBias; // a single newest query may see every earlier column
        }
        float[] causal = new float[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                causal[i * s + j] = j <= start + i ? 0f : MASKED;
            }
        }
        return keyBias.add(Tensors.of(m, causal, new Shape(1, 1, 1, t, s)));
    }

    /**
     * The decoder proper. {@code ids} and {@code positions} are int64 {@code [B, T]} in the call's scope; every
     * intermediate is created from them, so it lands in that scope (DJL attaches results to the first operand's
     * manager). With a cache, keys and values are written at columns {@code [start, start + T)} and attention runs
     * over columns {@code [0, start + T)}.
     */
    private NDArray decode(NDArray ids, NDArray positions, NDArray bias, Cache cache, int start, boolean lastOnly) {
        long b = ids.getShape().get(0);
        int t = (int) ids.getShape().get(1);
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int hd = config.headDim();
        int group = heads / kvHeads;
        int s = start + t;
        float eps = (float) config.rmsNormEps();

        RopeTables tables = ropeFor(positions);
        NDArray cos = Embedding.embedding(positions, tables.cos(), SparseFormat.DENSE).singletonOrThrow()
                .expandDims(1); // [B, 1, T, hd/2]
        NDArray sin = Embedding.embedding(positions, tables.sin(), SparseFormat.DENSE).singletonOrThrow()
                .expandDims(1);
        NDArray x = Embedding.embedding(ids, embed, SparseFormat.DENSE).singletonOrThrow(); // [B, T, D]
        float scale = (float) (1.0 / Math.sqrt(hd));

        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            NDArray h = rmsNorm(x, layer.inNorm(), eps);
            NDArray q = project(h, layer.q(), layer.modules()[0]).reshape(b, t, heads, hd).transpose(0, 2, 1, 3);
            NDArray k = project(h, layer.k(), layer.modules()[1]).reshape(b, t, kvHeads, hd).transpose(0, 2, 1, 3);
            NDArray v = project(h, layer.v(), layer.modules()[2]).reshape(b, t, kvHeads, hd).transpose(0, 2, 1, 3);
            q = rotate(q, cos, sin);
            k = rotate(k, cos, sin);
            if (cache != null) {
                NDIndex written = new NDIndex(":, :, {}:{}", start, s);
                cache.keys()[l].set(written, k);
                cache.values()[l].set(written, v);
                NDIndex visible = new NDIndex(":, :, 0:{}", s);
                k = cache.keys()[l].get(cache.step(), visible);
                v = cache.values()[l].get(cache.step(), visible);
            }
            // Query heads g*group .. g*group+group-1 share KV head g: fold them into the row axis of one matmul.
            NDArray qg = Tensors.times(q, scale).reshape(b, kvHeads, (long) group * t, hd);
            NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).reshape(b, kvHeads, group, t, s).add(bias);
            NDArray probs = scores.softmax(4).reshape(b, kvHeads, (long) group * t, s);
            NDArray ctx = probs.matMul(v).reshape(b, heads, t, hd).transpose(0, 2, 1, 3).reshape(b, t,
                    (long) heads * hd);
            x = x.add(project(ctx, layer.o(), layer.modules()[3]));

            NDArray h2 = rmsNorm(x, layer.postNorm(), eps);
            NDArray gate = project(h2, layer.gate(), layer.modules()[4]);
            NDArray up = project(h2, layer.up(), layer.modules()[5]);
            NDArray act = gate.mul(Activation.sigmoid(gate)).mul(up);
            x = x.add(project(act, layer.down(), layer.modules()[6]));
        }
        if (lastOnly && t > 1) {
            x = x.get(new NDIndex(":, {}:, :", t - 1));
        }
        x = rmsNorm(x, finalNorm, eps);
        return Linear.linear(x, head).singletonOrThrow();
    }

    private NDArray project(NDArray x, NDArray weight, String module) {
        NDArray y = Linear.linear(x, weight).singletonOrThrow();
        LinearAdapter adapter = adapters.get(module);
        if (adapter != null) {
            NDArray delta = adapter.delta(x);
            if (delta.getManager() != x.getManager()) {
                delta.attach(x.getManager());
            }
            y = y.add(delta);
        }
        return y;
    }

    private static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
        NDArray rms = x.square().mean(new int[] {-1}, true).add(Tensors.scalar(x, eps)).sqrt();
        return x.div(rms).mul(weight);
    }

    /** Rotates {@code x [B, H, T, hd]} by the per-position angles, pairing dimensions as the layout says. */
    private NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        Shape shape = x.getShape();
        int half = config.headDim() / 2;
        NDArray a;
        NDArray b;
        if (config.rotaryLayout() == RotaryLayout.INTERLEAVED) {
            NDArray pairs = x.reshape(shape.get(0), shape.get(1), shape.get(2), half, 2);
            a = pairs.get(new NDIndex(":, :, :, :, 0"));
            b = pairs.get(new NDIndex(":, :, :, :, 1"));
        } else {
            a = x.get(new NDIndex(":, :, :, 0:{}", half));
            b = x.get(new NDIndex(":, :, :, {}:", half));
        }
        NDArray ra = a.mul(cos).sub(b.mul(sin));
        NDArray rb = b.mul(cos).add(a.mul(sin));
        if (config.rotaryLayout() == RotaryLayout.INTERLEAVED) {
            return ra.expandDims(4).concat(rb.expandDims(4), 4).reshape(shape);
        }
        return ra.concat(rb, 3);
    }

    /** Tables covering every position in {@code positions}, grown (and kept) when a longer sequence arrives. */
    private RopeTables ropeFor(NDArray positions) {
        RopeTables tables = rope;
        long maxPos = positions.max().getLong();
        if (maxPos < tables.positions()) {
            return tables;
        }
        synchronized (this) {
            if (maxPos >= rope.positions()) {
                // The old tables stay in the model's manager: a concurrent forward may still be reading them.
                rope = buildRope((int) Math.max(maxPos + 1, 2L * rope.positions()));
            }
            return rope;
        }
    }

    private RopeTables buildRope(int positions) {
        int half = config.headDim() / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            inv[i] = Math.pow(config.ropeTheta(), -2.0 * i / config.headDim());
        }
        if (config.ropeScaling() != null) {
            inv = config.ropeScaling().apply(inv);
        }
        float[] cos = new float[positions * half];
        float[] sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * inv[i]; // in double: float angles drift at large positions
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        Shape shape = new Shape(positions, half);
        return new RopeTables(positions, Tensors.of(manager, cos, shape), Tensors.of(manager, sin, shape));
    }

    // ---- lifecycle --------------------------------------------------------------------------------------------

    @Override
    public CausalLm copy() {
        NDManager target = newModelManager(device(), "llama-copy");
        try (NoGrad ignored = NoGrad.enter()) {
            Map<String, NDArray> weights = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray c = e.getValue().duplicate();
                c.attach(target);
                weights.put(e.getKey(), c);
            }
            return new LlamaModel(config, tokenizer, false, weights, target);
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
