package dev.loku.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import dev.loku.core.fila.FilaFactors;
import dev.loku.core.fila.FilaInitializer;
import dev.loku.core.fila.TruncatedSvd;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.fisher.FisherPass;
import dev.loku.core.model.HfExporter;
import dev.loku.core.model.LinearAdapter;
import dev.loku.core.model.LinearProjection;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.RotaryLayout;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * LoRA adapters installed on a {@link CausalLm}'s linear projections (docs/method.md §2.5): each targeted projection
 * computes {@code x·Wᵀ + s · (dropout(x)·Aᵀ)·Bᵀ} with A {@code [r, in]}, B {@code [out, r]} and s = alpha / r, the
 * way PEFT's {@code lora.Linear} does. A and B are the only arrays that require gradients; the base weights are
 * frozen.
 *
 * <p>Two initialisations:
 * <ul>
 *   <li>{@link #attach}: PEFT's default (A Kaiming-uniform with a = √5, B = 0), so the model is unchanged at step
 *       0: the "+LoRA" baselines of §2.5;</li>
 *   <li>{@link #attachFila}: FILA (§2.3-2.4): A₀, B₀ from the Fisher-weighted SVD of each weight, whose base is
 *       rewritten to the residual W − s·B₀A₀, so the model is again unchanged at step 0 (up to rounding).</li>
 * </ul>
 *
 * <p>The adapter arrays live in a child manager of the model's manager on the model's device and are freed by
 * {@link #close}. Checkpoints follow PEFT's layout ({@link #savePeft}); because FILA rewrites the base, an adapter
 * is only meaningful together with the base it was trained on: {@link #exportBase} writes that base and
 * {@link #exportMerged} the adapted model as one Hugging Face folder (§8.6).
 *
 * <p>Not thread-safe against itself: do not merge, unmerge, close or load while a forward pass runs. Forward passes
 * through the model may run concurrently.
 */
@SuppressWarnings("try") // NoGrad is a scope guard: entering it is the point, its variable is unused
public final class LoraModel implements AutoCloseable {

    /**
     * Smaller sides up to this size get an exact SVD in FILA; larger ones the randomised one (§8.15). Measured on
     * the 2-core CI machine: EJML's exact SVD takes 1.4 s at 512×512, 3 s at 768×768 and 10 s at 2560×768 (more on
     * Fisher-weighted matrices), randomised 0.1-0.7 s; FILA on all 84 projections of a 125M Llama took 80 s with
     * this bound when first measured (1 to 1.5 s since the randomised path was made lean, docs/performance.md) and
     * had not finished after 10 minutes with 1024.
     */
    public static final int EXACT_SVD_UP_TO = 512;

    private static final String KEY_PREFIX = "base_model.model.";

    private final CausalLm model;
    private final LoraConfig config;
    private final NDManager manager;
    private final Map<String, Adapter> adapters;
    private final Map<String, NDArray> trainable;
    private volatile boolean training;
    /** False for adapters read from a file, whose initialisation is unknown ({@link #startingLogits}). */
    private boolean startKnown = true;
    private boolean merged;
    private boolean closed;

    /** One projection's factors; installed on the model as its {@link LinearAdapter}. */
    private final class Adapter implements LinearAdapter {
        final LinearProjection projection;
        final NDArray a;
        final NDArray b;
        /** FILA's starting factors A₀, B₀ (frozen copies), which the residual base lacks; null otherwise. */
        NDArray a0;
        NDArray b0;

        Adapter(LinearProjection projection, NDArray a, NDArray b) {
            this.projection = projection;
            this.a = a;
            this.b = b;
        }

        @Override
        public NDArray delta(NDArray input) {
            NDArray x = input;
            if (training && config.dropout() > 0) {
                x = Dropout.dropout(x, (float) config.dropout(), true).singletonOrThrow();
            }
            // linear(x, A) = x·Aᵀ lands in x's manager (the forward's scope), unlike A.transpose(), which would
            // be created in the adapter's long-lived manager on every call.
            return Tensors.times(Linear.linear(Linear.linear(x, a).singletonOrThrow(), b).singletonOrThrow(),
                    config.scaling());
        }

        /** s·B₀A₀ on the input, no dropout: the adapter as FILA started it (null factors: no start adapter). */
        final LinearAdapter start = input -> Tensors.times(Linear.linear(Linear.linear(input, a0).singletonOrThrow(),
                b0).singletonOrThrow(), config.scaling());

        /** s·B·A, [out, in], fp32, in the current scope. */
        NDArray deltaWeight() {
            return b.matMul(a).mul((float) config.scaling());
        }
    }

    private LoraModel(CausalLm model, LoraConfig config, NDManager manager) {
        this.model = model;
        this.config = config;
        this.manager = manager;
        this.adapters = new LinkedHashMap<>();
        this.trainable = new LinkedHashMap<>();
    }

    // ---- construction -----------------------------------------------------------------------------------------

    /**
     * Installs fresh adapters with PEFT's default initialisation: A ~ U(−1/√in, 1/√in) (Kaiming-uniform with
     * a = √5, which is what {@code nn.init.kaiming_uniform_(A, a=math.sqrt(5))} draws), B = 0. The logits are
     * unchanged at step 0. Every base weight is frozen. A is drawn from {@code java.util.Random(seed)} in the
     * projections' order, so the same seed gives the same adapters on any device.
     *
     * @throws IllegalArgumentException when the config targets nothing in the model or the rank exceeds a side
     * @throws IllegalStateException when the model already carries an adapter on a targeted projection
     */
    public static LoraModel attach(CausalLm model, LoraConfig config, long seed) {
        List<LinearProjection> targets = checkedTargets(model, config);
        LoraModel lora = new LoraModel(model, config, newManager(model));
        try {
            Random random = new Random(seed);
            for (LinearProjection p : targets) {
                float bound = (float) (1.0 / Math.sqrt(p.inFeatures()));
                float[] a = new float[config.rank() * p.inFeatures()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (random.nextFloat() * 2f - 1f) * bound;
                }
                NDArray aArr = Tensors.of(lora.manager, a, new Shape(config.rank(), p.inFeatures()));
                NDArray bArr = lora.manager.zeros(new Shape(p.outFeatures(), config.rank()), DataType.FLOAT32);
                lora.add(p, aArr, bArr);
            }
            lora.install();
            return lora;
        } catch (RuntimeException e) {
            lora.close();
            throw e;
        }
    }

    /**
     * FILA (docs/method.md §2.3-2.4, §8.4-8.6): for every targeted weight W, F_rel = {@code importance.relative(name)},
     * then {@link FilaInitializer} gives A₀, B₀ and W_res = W − s·B₀A₀ in fp32. The base weight is overwritten
     * with W_res ({@link CausalLm#assignParameter}) and A₀, B₀ become the trainable factors, so the model's
     * function is unchanged at step 0 up to fp32 rounding. The SVD is exact (EJML, deterministic) when
     * min(out, in) ≤ {@value #EXACT_SVD_UP_TO}, else randomised with {@code seed} (libtorch products); should it not
     * converge, {@link FallbackSvd} retries on the transpose and then through the Gram matrix.
     *
     * <p>An importance measured on the same checkpoint in the other rotary layout (the metadata key
     * {@link FisherPass#KEY_ROTARY_LAYOUT}) has its q/k rows permuted to the model's layout first.
     *
     * @throws IllegalArgumentException when the importance lacks a targeted weight or has the wrong shape for it
     */
    public static LoraModel attachFila(CausalLm model, LoraConfig config, FisherImportance importance,
                                       long seed) {
        return attachFila(model, config, importance, TruncatedSvd.auto(EXACT_SVD_UP_TO, seed));
    }

    /**
     * {@link #attachFila(CausalLm, LoraConfig, FisherImportance, long)} with a chosen SVD (e.g.
     * {@code TruncatedSvd.auto(512, seed)} to go randomised earlier on large models), wrapped in
     * {@link FallbackSvd}.
     */
    public static LoraModel attachFila(CausalLm model, LoraConfig config, FisherImportance importance,
                                       TruncatedSvd svd) {
        List<LinearProjection> targets = checkedTargets(model, config);
        // Everything checkable is checked before the first base weight is rewritten.
        for (LinearProjection p : targets) {
            if (!importance.names().contains(p.weightName())) {
                throw new IllegalArgumentException("the Fisher importance has no entry for " + p.weightName()
                        + "; estimate it for the same targets as the adapters");
            }
            if (!importance.forgetSum(p.weightName()).getShape().equals(model.parameter(p.weightName()).getShape())) {
                throw new IllegalArgumentException("the Fisher importance of " + p.weightName() + " has shape "
                        + importance.forgetSum(p.weightName()).getShape() + ", the weight "
                        + model.parameter(p.weightName()).getShape() + "; it was estimated on another model");
            }
            if (!isFinite(importance.forgetSum(p.weightName())) || !isFinite(importance.retainSum(p.weightName()))) {
                throw new IllegalArgumentException("the Fisher importance of " + p.weightName()
                        + " holds NaN or infinite values; estimate it again");
            }
        }
        RotaryLayout importanceLayout = layoutOf(importance);
        boolean permute = importanceLayout != null && importanceLayout != model.rotaryLayout();
        FilaInitializer fila = new FilaInitializer(new FallbackSvd(svd));
        LoraModel lora = new LoraModel(model, config, newManager(model));
        try (NoGrad ignored = NoGrad.enter()) {
            for (LinearProjection p : targets) {
                try (NDManager step = lora.manager.newSubManager(); TensorScope scope = new TensorScope()) {
                    // The weight is only read until its residual is assigned, so no copy of it is taken; and of
                    // F_rel only the row weights are formed (docs/method.md §2.4 step 1).
                    NDArray w = model.parameter(p.weightName());
                    NDArray rows = importance.rowWeights(p.weightName()).toDevice(model.device(), true);
                    rows.attach(step);
                    if (permute) {
                        long d = rows.getShape().get(0);
                        rows = model.reorderRows(p, rows.reshape(d, 1), importanceLayout, model.rotaryLayout())
                                .reshape(d);
                    }
                    try (FilaFactors f = fila.initializeFromRowWeights(w, rows, config.rank(), config.alpha())) {
                        model.assignParameter(p.weightName(), f.residualWeight());
                        // Fresh row-major copies: A₀ comes out of the solve as a transposed view, and a strided
                        // factor would run other GEMM kernels than the same factor read back from a checkpoint.
                        lora.add(p, scope.keep(contiguousCopy(lora.manager, f.loraA())),
                                scope.keep(contiguousCopy(lora.manager, f.loraB())));
                        // A₀, B₀ are kept for the adapter on the original base (§8.6): W = W_res + s·B₀A₀.
                        Adapter added = lora.adapters.get(p.module());
                        added.a0 = scope.keep(contiguousCopy(lora.manager, f.loraA()));
                        added.b0 = scope.keep(contiguousCopy(lora.manager, f.loraB()));
                    }
                }
            }
            lora.install();
            return lora;
        } catch (RuntimeException e) {
            // Put s·B₀A₀ back into the weights already rewritten (equal to the originals up to fp32 rounding).
            try {
                lora.merge();
            } catch (RuntimeException rollback) {
                e.addSuppressed(rollback);
            }
            lora.close();
            throw e;
        }
    }

    /**
     * Attaches the adapters of a PEFT LoRA folder ({@code adapter_config.json} + {@code adapter_model.safetensors})
     * to {@code model}. Names, shapes and configuration are validated; anything this class cannot reproduce
     * exactly (DoRA, rsLoRA, biases, per-module ranks) is refused. For a FILA adapter, {@code model} must be the
     * residual base it was saved with ({@link #exportBase}).
     *
     * @throws java.nio.file.NoSuchFileException when a file is missing
     * @throws dev.loku.core.io.FileFormatException when a file is corrupt, truncated or not a LoRA adapter for this
     *     model; the message names the file and the problem
     */
    public static LoraModel loadPeft(CausalLm model, Path dir) throws IOException {
        return PeftFiles.load(model, dir);
    }

    /** Used by {@link PeftFiles}: wraps factors read from a file (A/B in the model's layout, this manager). */
    static LoraModel fromFactors(CausalLm model, LoraConfig config, Map<LinearProjection, NDArray[]> factors,
                                 NDManager manager) {
        LoraModel lora = new LoraModel(model, config, manager);
        lora.startKnown = false;
        try {
            factors.forEach((p, ab) -> lora.add(p, ab[0], ab[1]));
            lora.install();
            return lora;
        } catch (RuntimeException e) {
            lora.close();
            throw e;
        }
    }

    static NDManager newManager(CausalLm model) {
        NDManager m = model.manager().newSubManager();
        m.setName("lora");
        return m;
    }

    private static List<LinearProjection> checkedTargets(CausalLm model, LoraConfig config) {
        List<LinearProjection> targets = config.select(model);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("no projection of the model matches the LoRA targets "
                    + config.targets());
        }
        for (LinearProjection p : targets) {
            if (config.rank() > Math.min(p.outFeatures(), p.inFeatures())) {
                throw new IllegalArgumentException("LoRA rank " + config.rank() + " exceeds the smaller side of "
                        + p.module() + " [" + p.outFeatures() + ", " + p.inFeatures() + "]");
            }
            if (model.adapter(p.module()) != null) {
                throw new IllegalStateException(p.module() + " already carries an adapter; close the other"
                        + " LoraModel first");
            }
        }
        return targets;
    }

    private void add(LinearProjection p, NDArray a, NDArray b) {
        a.setRequiresGradient(true);
        b.setRequiresGradient(true);
        adapters.put(p.module(), new Adapter(p, a, b));
        trainable.put(peftKey(p.module(), "A"), a);
        trainable.put(peftKey(p.module(), "B"), b);
    }

    /** Freezes every base weight and puts the adapters on the model. */
    private void install() {
        for (NDArray w : model.parameters().values()) {
            if (w.hasGradient()) {
                w.setRequiresGradient(false);
            }
        }
        adapters.forEach(model::setAdapter);
    }

    // ---- accessors --------------------------------------------------------------------------------------------

    public CausalLm model() {
        return model;
    }

    public LoraConfig config() {
        return config;
    }

    /** The adapted projections, in the model's order. */
    public List<LinearProjection> projections() {
        return adapters.values().stream().map(a -> a.projection).toList();
    }

    /**
     * The trainable arrays (they require gradients), keyed by PEFT names
     * {@code base_model.model.<module>.lora_A.weight} and {@code ....lora_B.weight}, projection by projection in
     * the model's order, A before B. The arrays belong to this object; in-place updates change the adapters.
     */
    public Map<String, NDArray> trainableParameters() {
        return Collections.unmodifiableMap(trainable);
    }

    /** PEFT's state-dict key of a factor: {@code base_model.model.<module>.lora_<A|B>.weight}. */
    public static String peftKey(String module, String factor) {
        return KEY_PREFIX + module + ".lora_" + factor + ".weight";
    }

    /** Dropout is applied to the adapters' inputs only while training (PEFT's {@code lora_dropout}). */
    public void setTraining(boolean training) {
        this.training = training;
    }

    public boolean isTraining() {
        return training;
    }

    public boolean isMerged() {
        return merged;
    }

    // ---- merging and export -----------------------------------------------------------------------------------

    /**
     * Folds s·B·A into each adapted base weight and removes the adapters from the model, so a plain forward pass
     * computes the adapted function. The factors are kept: {@link #unmerge} subtracts them again.
     */
    public void merge() {
        checkOpen();
        if (merged) {
            throw new IllegalStateException("the adapters are already merged");
        }
        try (NoGrad ignored = NoGrad.enter()) {
            for (Adapter a : adapters.values()) {
                TensorScope.run(() -> {
                    NDArray w = model.parameter(a.projection.weightName());
                    model.assignParameter(a.projection.weightName(), a.deltaWeight().add(w));
                });
                model.setAdapter(a.projection.module(), null);
            }
        }
        merged = true;
    }

    /** Undoes {@link #merge}: W − s·B·A back into the base and the adapters back on the model. */
    public void unmerge() {
        checkOpen();
        if (!merged) {
            throw new IllegalStateException("the adapters are not merged");
        }
        try (NoGrad ignored = NoGrad.enter()) {
            for (Adapter a : adapters.values()) {
                TensorScope.run(() -> {
                    NDArray w = model.parameter(a.projection.weightName());
                    model.assignParameter(a.projection.weightName(), a.deltaWeight().neg().add(w));
                });
                model.setAdapter(a.projection.module(), a);
            }
        }
        merged = false;
    }

    /**
     * Writes a Hugging Face folder of the adapted model, base + s·B·A per projection ({@link HfExporter}): what
     * an evaluator without PEFT loads (§8.6). Works on a copy of the weights, so the model in memory is unchanged.
     */
    public void exportMerged(Path dir) throws IOException {
        checkOpen();
        if (merged) {
            exportBase(dir);
            return;
        }
        try (NoGrad ignored = NoGrad.enter(); CausalLm copy = model.copy()) {
            for (Adapter a : adapters.values()) {
                TensorScope.run(() -> copy.assignParameter(a.projection.weightName(),
                        a.deltaWeight().add(model.parameter(a.projection.weightName()))));
            }
            export(copy, dir);
        }
    }

    /**
     * Writes the current base weights as a Hugging Face folder, adapters left out. After {@link #attachFila} that
     * is the residual base W − s·B₀A₀, which the PEFT adapter of {@link #savePeft} must be applied to (§8.6).
     */
    public void exportBase(Path dir) throws IOException {
        checkOpen();
        export(model, dir);
    }

    private static void export(CausalLm m, Path dir) throws IOException {
        try {
            HfExporter.export(m, dir);
        } catch (RuntimeException e) {
            throw new IOException(dir + ": cannot write the model (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Writes the adapters in PEFT's format: {@code adapter_model.safetensors} (fp32, keys
     * {@link #peftKey}, B rows of q/k in Hugging Face's rotate_half order like the exported base) and
     * {@code adapter_config.json} ({@code peft_type} LORA, {@code r}, {@code lora_alpha}, {@code lora_dropout},
     * {@code target_modules}, {@code base_model_name_or_path}, {@code task_type} CAUSAL_LM, {@code bias} none).
     * {@code peft.PeftModel.from_pretrained(base, dir)} on the base of {@link #exportBase} rebuilds the model.
     */
    public void savePeft(Path dir, String baseModelNameOrPath) throws IOException {
        checkOpen();
        if (merged) {
            throw new IllegalStateException("unmerge the adapters before saving them: the base already holds them");
        }
        PeftFiles.save(this, dir, baseModelNameOrPath);
    }

    /**
     * Whether the base was rewritten by FILA and the starting factors A₀, B₀ are known, so that
     * {@link #savePortablePeft} converts; false for PEFT-initialised adapters and for adapters read from a file.
     */
    public boolean hasFilaStart() {
        return !adapters.isEmpty() && adapters.values().iterator().next().a0 != null;
    }

    /**
     * Writes a PEFT LoRA adapter that applies to the <em>original</em> base, the weights before FILA rewrote them
     * (docs/method.md §8.6). Since W_res = W − s·B₀A₀, the adapted weight W_res + s·BA equals
     * W + s·(BA − B₀A₀) = W + s·[B, −B₀]·[A; A₀]: a rank-2r adapter with {@code lora_A = cat([A, A₀], dim 0)},
     * {@code lora_B = cat([B, −B₀], dim 1)} and {@code lora_alpha} 2α, so that PEFT's scaling alpha / r stays s.
     * Without FILA the adapter already applies to the original base and this writes what {@link #savePeft} does.
     * Same files and layout as {@link #savePeft}.
     */
    public void savePortablePeft(Path dir, String baseModelNameOrPath) throws IOException {
        checkOpen();
        if (merged) {
            throw new IllegalStateException("unmerge the adapters before saving them: the base already holds them");
        }
        if (!hasFilaStart()) {
            PeftFiles.save(this, dir, baseModelNameOrPath);
            return;
        }
        PeftFiles.savePortable(this, dir, baseModelNameOrPath);
    }

    /**
     * The logits of the model as it was before any training step, from the same weights (docs/method.md §4, the
     * reference of KL and NPO): every adapter is set to its starting point for this forward pass (FILA: s·B₀A₀ on
     * the residual base, which is the original weight up to fp32 rounding; PEFT's initialisation: B₀ = 0, so no
     * adapter at all, as PEFT's {@code disable_adapter()}) and put back afterwards. Runs under NoGrad. Not safe
     * while another forward pass through the model runs.
     *
     * @throws IllegalStateException when the adapters are merged or were read from a file (their start is unknown)
     */
    public NDArray startingLogits(NDManager scope, TokenBatch batch) {
        checkOpen();
        if (merged) {
            throw new IllegalStateException("the adapters are merged: the base no longer holds the starting model");
        }
        if (!startKnown) {
            throw new IllegalStateException("the adapters were read from a file: their starting point is unknown");
        }
        try (NoGrad ignored = NoGrad.enter()) {
            for (Adapter a : adapters.values()) {
                model.setAdapter(a.projection.module(), a.a0 == null ? null : a.start);
            }
            return model.logits(scope, batch);
        } finally {
            adapters.values().forEach(a -> model.setAdapter(a.projection.module(), a));
        }
    }

    /** A factor in the model's layout; used by {@link PeftFiles}. */
    NDArray factor(LinearProjection p, boolean b) {
        Adapter a = adapters.get(p.module());
        return b ? a.b : a.a;
    }

    /** FILA's starting factor A₀ or B₀ in the model's layout, null when unknown; used by {@link PeftFiles}. */
    NDArray startFactor(LinearProjection p, boolean b) {
        Adapter a = adapters.get(p.module());
        return b ? a.b0 : a.a0;
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** No NaN or infinity in {@code a}: its max and min (both propagate NaN) are finite; two reads, no masks. */
    private static boolean isFinite(NDArray a) {
        return TensorScope.call(() -> Float.isFinite(a.max().toType(DataType.FLOAT32, false).getFloat())
                && Float.isFinite(a.min().toType(DataType.FLOAT32, false).getFloat()));
    }

    private static NDArray contiguousCopy(NDManager target, NDArray a) {
        return Tensors.of(target, a.toFloatArray(), a.getShape());
    }

    private static RotaryLayout layoutOf(FisherImportance importance) {
        String v = importance.metadata().get(FisherPass.KEY_ROTARY_LAYOUT);
        if (v == null) {
            return null;
        }
        try {
            return RotaryLayout.valueOf(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the Fisher importance names an unknown rotary layout '" + v + "'");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this LoraModel is closed");
        }
    }

    /**
     * Removes this object's adapters from the model (base weights left as they are, merged or not) and frees the
     * adapter arrays. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Adapter a : adapters.values()) {
            if (model.adapter(a.projection.module()) == a) {
                model.setAdapter(a.projection.module(), null);
            }
        }
        manager.close();
    }
}
