package dev.loku.core.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.fisher.FisherPass;
import dev.loku.core.lora.LoraConfig;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.metrics.Thresholds;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.HfExporter;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.objective.UnlearningObjective;
import dev.loku.core.tofu.TofuEvaluator;
import dev.loku.core.tofu.TofuSplit;
import dev.loku.core.tofu.TofuSplitScores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unlearning engine's facade: what the CLI's offline commands and the pipeline's services call. It speaks in
 * paths and domain records; tensors stay inside.
 *
 * <ul>
 *   <li>{@link #evaluate}: MA, EL_10 and NLL of a model on forget, retain and unseen records (docs/method.md §5.1).</li>
 *   <li>{@link #finetune}: full fine-tuning, how a model comes to memorise records (§3.1).</li>
 *   <li>{@link #estimateImportance}: the Fisher pass (§2.2).</li>
 *   <li>{@link #unlearn}: thresholds from the unseen set, then epochs of the chosen objective (§4) on full weights or
 *       (FILA-initialised) LoRA adapters until the stop rule (§3.2).</li>
 * </ul>
 *
 * <p>The engine owns its grad mode: every public method switches libtorch's autograd recording off on the calling
 * thread for its duration (only its gradient collectors switch it on) and restores the caller's mode. DJL sets
 * that mode only on the thread that loaded the engine, so callers on any other thread (a service's job threads,
 * tests) would otherwise record graphs for inference and trip over in-place optimiser updates.
 *
 * <p>Every long method checks the thread's interrupt flag between steps and throws {@link InterruptedException}. No
 * record text reaches an exception message or a log line: records are named by file and line, data by SHA-256.
 * With the same inputs and seed on CPU, every number comes out the same.
 */
@SuppressWarnings("try") // NoGrad is a scope guard: entering it is the point, its variable is unused
public final class UnlearningEngine {

    private static final Logger LOG = LoggerFactory.getLogger(UnlearningEngine.class);

    /** Micro-batch of the Fisher pass: the reference's run_measure_importance.sh uses 4 (docs/method.md §2.2). */
    static final int FISHER_BATCH_SIZE = 4;

    private final Device device;
    private final RecordSetEvaluator evaluator;
    private final boolean checkpointing;
    private final EpochEvaluation evaluation;
    private final DataType weightType;
    private final MicroBatchWeighting weighting;
    /** The type exports write the weights in; null: each model's own (its checkpoint's, see CausalLm#exportType). */
    private final DataType exportType;

    public UnlearningEngine(Device device) {
        this(device, new RecordSetEvaluator());
    }

    public UnlearningEngine(Device device, RecordSetEvaluator evaluator) {
        this(device, evaluator, false, EpochEvaluation.EVERY_EPOCH, DataType.FLOAT32, MicroBatchWeighting.EQUAL, null);
    }

    private UnlearningEngine(Device device, RecordSetEvaluator evaluator, boolean checkpointing,
                             EpochEvaluation evaluation, DataType weightType, MicroBatchWeighting weighting,
                             DataType exportType) {
        this.device = Objects.requireNonNull(device, "device");
        this.evaluator = Objects.requireNonNull(evaluator, "evaluator");
        this.checkpointing = checkpointing;
        this.evaluation = Objects.requireNonNull(evaluation, "evaluation");
        if (weightType != DataType.FLOAT32 && weightType != DataType.FLOAT16) {
            throw new IllegalArgumentException("the engine holds weights as float32 or float16, not " + weightType);
        }
        this.weightType = weightType;
        this.weighting = Objects.requireNonNull(weighting, "micro-batch weighting");
        if (exportType != null && exportType != DataType.FLOAT32 && exportType != DataType.FLOAT16
                && exportType != DataType.BFLOAT16) {
            throw new IllegalArgumentException("the engine exports weights as float32, float16 or bfloat16, not "
                    + exportType);
        }
        this.exportType = exportType;
    }

    /**
     * This engine with activation checkpointing on or off for every model it trains ({@link
     * CausalLm#setActivationCheckpointing}): the same results, less memory, one more forward per step.
     */
    public UnlearningEngine withActivationCheckpointing(boolean on) {
        return new UnlearningEngine(device, evaluator, on, evaluation, weightType, weighting, exportType);
    }

    /** This engine measuring each unlearning epoch as {@code e} says (default {@link EpochEvaluation#EVERY_EPOCH}). */
    public UnlearningEngine withEpochEvaluation(EpochEvaluation e) {
        return new UnlearningEngine(device, evaluator, checkpointing, e, weightType, weighting, exportType);
    }

    /**
     * This engine holding every model it loads as {@code type}: float32 (the default) or float16 (docs/engine.md
     * "Precision": products in float16, softmaxes, norms, losses, LoRA factors and optimiser state in float32).
     * Reports name it ({@code weight_dtype}).
     */
    public UnlearningEngine withWeightType(DataType type) {
        return new UnlearningEngine(device, evaluator, checkpointing, evaluation, type, weighting, exportType);
    }

    /**
     * This engine combining each unlearning epoch's micro-batches as {@code w} says: {@link MicroBatchWeighting#EQUAL}
     * (the default, the paper's recipe: 1/n each) or {@link MicroBatchWeighting#TOKENS} (each objective term by its
     * count over the epoch's total, one mean over the whole forget set). Reports name it
     * ({@code micro_batch_weighting}). The TOFU recipe ({@link #unlearnScheduled}) steps once per micro-batch, so
     * there is nothing to weight there.
     */
    public UnlearningEngine withMicroBatchWeighting(MicroBatchWeighting w) {
        return new UnlearningEngine(device, evaluator, checkpointing, evaluation, weightType, w, exportType);
    }

    /**
     * This engine writing every model it exports (candidate, residual base, merged model) with its weights as
     * {@code type}: float32, float16 or bfloat16; null (the default) keeps each checkpoint's own type, or float16
     * when the weights are held as float16 ({@link CausalLm#exportType}). Reports name the type written
     * ({@code export_dtype}). bfloat16 is written from the float32 weights, rounded to nearest even: it needs no
     * bfloat16 arithmetic.
     */
    public UnlearningEngine withExportType(DataType type) {
        return new UnlearningEngine(device, evaluator, checkpointing, evaluation, weightType, weighting, type);
    }

    public MicroBatchWeighting microBatchWeighting() {
        return weighting;
    }

    /** The type exports are written in; null: each model's own ({@link #withExportType}). */
    public DataType exportType() {
        return exportType;
    }

    public DataType weightType() {
        return weightType;
    }

    public EpochEvaluation epochEvaluation() {
        return evaluation;
    }

    public boolean activationCheckpointing() {
        return checkpointing;
    }

    public Device device() {
        return device;
    }

    /** The model at {@code path} on this engine's device, checkpointing as the engine is set. */
    private CausalLm load(Path path) throws IOException {
        CausalLm m = ModelLoader.load(path, device, weightType);
        m.setActivationCheckpointing(checkpointing);
        if (exportType != null) {
            m.exportAs(exportType);
        }
        return m;
    }

    /**
     * Autograd recording off on the calling thread until the returned guard closes. libtorch is loaded first: grad
     * mode is one of its calls, and a fresh JVM may reach here before anything else has loaded it.
     */
    private static NoGrad gradOff() {
        Engine.getEngine("PyTorch");
        return NoGrad.enter();
    }

    /**
     * Scores any model (HF folder or llama2.c .bin) on the three record sets. EL_10 is measured on the forget and
     * unseen sets only (the retain set needs MA and NLL).
     */
    public EvaluationReport evaluate(Path model, RecordSets sets) throws IOException, InterruptedException {
        return evaluate(model, sets, false);
    }

    /**
     * Every metric of every set; EL_10 of the retain set only when {@code retainExtraction} (it costs one greedy
     * continuation per prefix of every retain record).
     */
    public EvaluationReport evaluate(Path model, RecordSets sets, boolean retainExtraction)
            throws IOException, InterruptedException {
        try (NoGrad ignored = gradOff(); CausalLm m = load(model)) {
            RecordSetScores f = evaluator.score(m, RecordFiles.read(m, sets.forget()), true);
            RecordSetScores r = evaluator.score(m, RecordFiles.read(m, sets.retain()), retainExtraction);
            RecordSetScores u = evaluator.score(m, RecordFiles.read(m, sets.unseen()), true);
            RecordSetScores g = sets.general() == null ? null
                    : evaluator.score(m, RecordFiles.read(m, sets.general()), false);
            return new EvaluationReport(f, r, u, g);
        }
    }

    /** Every metric, EL_10 included, of one JSONL record set on a model: one load, one set scored. */
    public RecordSetScores score(Path model, Path records) throws IOException, InterruptedException {
        try (NoGrad ignored = gradOff(); CausalLm m = load(model)) {
            return evaluator.score(m, RecordFiles.read(m, records), true);
        }
    }

    /** Full fine-tune (how a model comes to memorise text); writes an HF folder to outDir. */
    public FinetuneResult finetune(Path model, Path data, FinetuneSettings settings, Path outDir,
                                   IntConsumer epochDone) throws IOException, InterruptedException {
        return finetune(model, data, null, settings, outDir, epochDone);
    }

    /**
     * Full fine-tune anchored on {@code anchors} (JSONL texts, or null for none): with a positive
     * {@link FinetuneSettings#anchorWeight()} every step also pulls the model's next-token distributions on those
     * texts towards the starting model's (KL), so that it learns {@code data} without forgetting how to handle them.
     */
    public FinetuneResult finetune(Path model, Path data, Path anchors, FinetuneSettings settings, Path outDir,
                                   IntConsumer epochDone) throws IOException, InterruptedException {
        try (NoGrad ignored = gradOff(); CausalLm m = load(model)) {
            List<EncodedExample> examples = RecordFiles.read(m, data);
            List<EncodedExample> anchorTexts = anchors == null ? List.of() : RecordFiles.read(m, anchors);
            LOG.info("event=finetune_start records={} anchors={} anchor_weight={} epochs={} lr={} batch={} seed={}",
                    examples.size(), anchorTexts.size(), settings.anchorWeight(), settings.epochs(),
                    settings.learningRate(), settings.batchSize(), settings.seed());
            double loss = Finetuner.train(m, examples, anchorTexts, settings,
                    epochDone == null ? e -> { } : epochDone);
            double trainMa = evaluator.score(m, examples, false).ma();
            Files.createDirectories(outDir);
            HfExporter.export(m, outDir);
            LOG.info("event=finetune_done final_loss={} train_ma={}", loss, trainMa);
            return new FinetuneResult(outDir, settings.epochs(), loss, trainMa);
        }
    }

    /**
     * Fisher importance (docs/method.md §2.2) over the forget set and an equally sized seeded retain sample, saved as
     * safetensors with the SHA-256 of model, forget and retain files in its metadata.
     */
    public ImportanceSummary estimateImportance(Path model, Path forget, Path retain, List<String> targets, long seed,
                                                Path outFile) throws IOException, InterruptedException {
        try (NoGrad ignored = gradOff(); CausalLm m = load(model)) {
            List<EncodedExample> forgetSet = RecordFiles.read(m, forget);
            List<EncodedExample> retainSet = RecordFiles.read(m, retain);
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put(FisherImportance.MODEL_SHA256, ContentHash.of(model));
            metadata.put(FisherImportance.FORGET_SHA256, ContentHash.of(forget));
            metadata.put(FisherImportance.RETAIN_SHA256, ContentHash.of(retain));
            try (FisherImportance importance = fisherPass(m, forgetSet, retainSet, targets, seed, metadata)) {
                Path parent = outFile.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                importance.save(outFile);
                LOG.info("event=importance_saved forget_tokens={} retain_tokens={} weights={}",
                        importance.forgetCount(), importance.retainCount(), importance.names().size());
                return new ImportanceSummary(outFile, importance.forgetCount(), importance.retainCount());
            }
        }
    }

    /**
     * The Fisher pass of docs/method.md §2.2: the forget set, and |D_f| retain records drawn uniformly with replacement
     * with {@code seed} (the reference pairs each forget item with a random retain item), in micro-batches of
     * {@value #FISHER_BATCH_SIZE}, over the weights of the targeted projections.
     */
    static FisherImportance fisherPass(CausalLm m, List<EncodedExample> forgetSet, List<EncodedExample> retainSet,
                                       List<String> targets, long seed, Map<String, String> metadata)
            throws InterruptedException {
        Random random = new Random(seed);
        List<EncodedExample> retainSample = new ArrayList<>(forgetSet.size());
        for (int i = 0; i < forgetSet.size(); i++) {
            retainSample.add(retainSet.get(random.nextInt(retainSet.size())));
        }
        List<String> kinds = new LoraConfig(1, 1, 0, targets == null || targets.isEmpty() ? LoraConfig.ALL_TARGETS
                : targets).kinds(m.family());
        return FisherPass.run(m, forgetSet, retainSample, FisherPass.projectionWeights(m, kinds),
                FISHER_BATCH_SIZE, metadata);
    }

    /**
     * Thresholds from the unseen set on the base model, epoch 0, then epochs until the stop rule or maxEpochs.
     * importanceFile may be null: with fila it is then computed here. Writes outDir/model (+ outDir/adapter).
     */
    public UnlearnResult unlearn(Path model, RecordSets sets, Path importanceFile, UnlearnSettings settings,
                                 Path outDir, EpochListener listener) throws IOException, InterruptedException {
        return unlearn(model, sets, importanceFile, settings, outDir, listener, null);
    }

    /**
     * {@link #unlearn(Path, RecordSets, Path, UnlearnSettings, Path, EpochListener)} with the name the adapters on
     * the original base give as {@code base_model_name_or_path}: {@code outDir/adapter} without FILA,
     * {@code outDir/adapter-portable} with it (docs/method.md §8.6). {@code baseName} may be a Hub id or a path; null
     * names {@code model}'s absolute path.
     */
    public UnlearnResult unlearn(Path model, RecordSets sets, Path importanceFile, UnlearnSettings settings,
                                 Path outDir, EpochListener listener, String baseName)
            throws IOException, InterruptedException {
        return unlearn(model, sets, importanceFile, settings, outDir, listener, baseName, null);
    }

    /**
     * {@link #unlearn(Path, RecordSets, Path, UnlearnSettings, Path, EpochListener, String)} that keeps its state
     * in {@code checkpoints} after every trained epoch and, when a checkpoint of the same run is there (same model,
     * data, importance and settings), resumes after its epoch instead of starting again (docs/engine.md, "Epoch
     * checkpoints"). The resumed run's epochs, weights and outputs are those of an uninterrupted run. The caller
     * deletes the checkpoints once it has what the run wrote. Null keeps none.
     */
    public UnlearnResult unlearn(Path model, RecordSets sets, Path importanceFile, UnlearnSettings settings,
                                 Path outDir, EpochListener listener, String baseName, EpochCheckpoints checkpoints)
            throws IOException, InterruptedException {
        settings.validate();
        UnlearningObjective objective = settings.method().objective();
        String baseSha = ContentHash.of(model);
        String forgetSha = ContentHash.of(sets.forget());
        EpochListener sink = listener == null ? EpochListener.none() : listener;
        try (NoGrad ignored = gradOff(); CausalLm m = load(model)) {
            List<EncodedExample> forgetSet = RecordFiles.read(m, sets.forget());
            List<EncodedExample> trainForget = trainingForgetSet(m, sets.forget(), forgetSet, settings);
            List<EncodedExample> retainSet = RecordFiles.read(m, sets.retain());
            List<EncodedExample> unseenSet = RecordFiles.read(m, sets.unseen());
            RecordSetScores unseenScores = evaluator.score(m, unseenSet, true);
            Thresholds thresholds = Thresholds.measuredOnUnseen(unseenScores.ma(), unseenScores.el10());
            LOG.info("event=unlearn_start method={} lora_rank={} fila={} forget_records={} forget_sha256={}"
                    + " threshold_ma={} threshold_el10={}", settings.method(), settings.loraRank(), settings.fila(),
                    forgetSet.size(), forgetSha, thresholds.ma(), thresholds.el());
            long initStart = System.nanoTime();
            ReferenceModel reference = null;
            try (TrainableWeights weights =
                         trainableWeights(m, model, settings, importanceFile, forgetSet, retainSet, baseName)) {
                sink.onAdapterInitialized(!settings.usesLora() ? "NONE" : settings.fila() ? "FILA" : "RANDOM",
                        (System.nanoTime() - initStart) / 1e9);
                reference = objective.needs().referenceModel() ? weights.reference() : null;
                UnlearningLoop loop = new UnlearningLoop(m, reference, weights, objective, forgetSet, trainForget,
                        retainSet, settings, evaluator, evaluation, weighting);
                String runKey = checkpoints == null ? null
                        : runKey(baseSha, forgetSha, sets, importanceFile, settings);
                UnlearningLoop.Outcome outcome = loop.run(thresholds, e -> {
                    LOG.info(String.format(Locale.ROOT, "event=unlearn_epoch epoch=%d loss=%.6f forget_ma=%.4f"
                                    + " forget_el10=%.4f retain_ma=%.4f retain_nll=%.4f seconds=%.2f", e.epoch(),
                            e.loss(), e.forgetMa(), e.forgetEl10(), e.retainMa(), e.retainNll(), e.seconds()));
                    sink.onEpoch(e);
                }, checkpoints, runKey);
                Path modelDir = outDir.resolve("model");
                Files.createDirectories(modelDir);
                weights.writeModel(modelDir);
                Path adapterDir = weights.writeAdapter(outDir.resolve("adapter"));
                UnlearnReport report = new UnlearnReport(settings.method(), runHyperparameters(settings, m), settings.seed(),
                        baseSha, forgetSha, thresholds.ma(), thresholds.el(), outcome.epochs(),
                        outcome.stoppedAtEpoch(), outcome.reachedThreshold());
                LOG.info("event=unlearn_done stopped_at_epoch={} reached_threshold={}", outcome.stoppedAtEpoch(),
                        outcome.reachedThreshold());
                return new UnlearnResult(report, modelDir, adapterDir);
            } finally {
                if (reference != null) {
                    reference.close();
                }
            }
        }
    }

    /**
     * The unlearning loop of {@link #unlearn} on records already encoded and a model already loaded, with the given
     * thresholds instead of the unseen set's, and nothing written: for benchmarks that time the epochs the worker
     * runs ({@code loku bench peer}). The settings' adapter is attached to {@code model} for the run and removed
     * after it, so the model is as it was. Returns epoch 0 and every trained epoch, each with its seconds (update and
     * evaluation, as this engine's {@link EpochEvaluation} says). Thresholds of 0 are never reached, so the run
     * trains all of {@code settings.maxEpochs()}. Full weights are trained in place: the caller restores them.
     */
    public List<EpochRecord> runEpochs(CausalLm model, List<EncodedExample> forget, List<EncodedExample> retain,
                                       UnlearnSettings settings, Thresholds thresholds) throws InterruptedException {
        settings.validate();
        UnlearningObjective objective = settings.method().objective();
        if (settings.fila() || objective.needs().refusalAnswers()) {
            // FILA leaves its residual in the base weights, and refusal answers come from a record file.
            throw new IllegalArgumentException("runEpochs takes plain LoRA or full weights and an objective without"
                    + " refusal answers, not " + settings.method().id() + (settings.fila() ? " with FILA" : ""));
        }
        try (NoGrad ignored = gradOff();
                TrainableWeights weights = trainableWeights(model, null, settings, null, forget, retain,
                        "benchmark")) {
            ReferenceModel reference = objective.needs().referenceModel() ? weights.reference() : null;
            try {
                return new UnlearningLoop(model, reference, weights, objective, forget, forget, retain, settings,
                        evaluator, evaluation, weighting).run(thresholds, EpochListener.none()).epochs();
            } finally {
                if (reference != null) {
                    reference.close();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // unreachable: without FILA no importance file is read
        }
    }

    /**
     * What makes two unlearning runs the same run, as one SHA-256: the model's, the data's and the importance's
     * content hashes and every setting that changes what is computed. A checkpoint resumes only the run it came from.
     */
    private String runKey(String baseSha, String forgetSha, RecordSets sets, Path importanceFile,
                          UnlearnSettings settings) throws IOException {
        String key = String.join("\n", "base=" + baseSha, "forget=" + forgetSha,
                "retain=" + ContentHash.of(sets.retain()), "unseen=" + ContentHash.of(sets.unseen()),
                "importance=" + (importanceFile == null ? "computed" : ContentHash.of(importanceFile)),
                "settings=" + settings, "weighting=" + weighting, "evaluation=" + evaluation,
                "weight_type=" + weightType, "activation_checkpointing=" + checkpointing, "device=" + device);
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /**
     * Unlearning on TOFU's reference recipe (docs/method.md §3.1): {@code epochs} epochs of one AdamW step per forget
     * micro-batch, warm-up over the first epoch then linear decay, no stop rule; {@code probe} sees the model at
     * epoch 0 and after every epoch (where TOFU evaluates). Nothing is written: the probe takes what it needs.
     * importanceFile may be null: with FILA it is then computed here.
     */
    public void unlearnScheduled(Path model, Path forget, Path retain, Path importanceFile, UnlearnSettings settings,
                                 int epochs, EpochProbe probe) throws IOException, InterruptedException {
        settings.validate();
        if (epochs < 1) {
            throw new IllegalArgumentException("a scheduled run needs at least one epoch, got " + epochs);
        }
        UnlearningObjective objective = settings.method().objective();
        try (NoGrad ignored = NoGrad.enter(); CausalLm m = load(model)) {
            List<EncodedExample> forgetSet = RecordFiles.read(m, forget);
            List<EncodedExample> trainForget = trainingForgetSet(m, forget, forgetSet, settings);
            List<EncodedExample> retainSet = RecordFiles.read(m, retain);
            LOG.info("event=scheduled_unlearn_start method={} lora_rank={} fila={} forget_records={} epochs={}",
                    settings.method(), settings.loraRank(), settings.fila(), forgetSet.size(), epochs);
            ReferenceModel reference = null;
            try (TrainableWeights weights = trainableWeights(m, model, settings, importanceFile, forgetSet, retainSet,
                    null)) {
                reference = objective.needs().referenceModel() ? weights.reference() : null;
                ScheduledUnlearning.run(m, reference, weights, objective, trainForget, retainSet, settings, epochs,
                        probe);
            } finally {
                if (reference != null) {
                    reference.close();
                }
            }
        }
    }

    /**
     * TOFU's per-item numbers (docs/method.md §5.2) of a model on each split, in order: one load, every split scored.
     */
    public List<TofuSplitScores> evaluateTofu(Path model, List<TofuSplit> splits, TofuEvaluator tofu,
                                              TofuEvaluator.Progress progress) throws IOException, InterruptedException {
        try (NoGrad ignored = NoGrad.enter(); CausalLm m = load(model)) {
            List<TofuSplitScores> out = new ArrayList<>(splits.size());
            for (TofuSplit split : splits) {
                out.add(tofu.score(m, split, progress));
            }
            return out;
        }
    }

    /** The forget records as trained on: as read, or with refusal answers for an objective that needs them (idk). */
    private static List<EncodedExample> trainingForgetSet(CausalLm m, Path forget, List<EncodedExample> read,
                                                          UnlearnSettings settings) throws IOException {
        return settings.method().objective().needs().refusalAnswers()
                ? RecordFiles.readWithRefusals(m, forget, settings.refusals(), settings.seed()) : read;
    }

    private static TrainableWeights trainableWeights(CausalLm model, Path modelPath, UnlearnSettings settings,
                                                     Path importanceFile, List<EncodedExample> forgetSet,
                                                     List<EncodedExample> retainSet, String baseName)
            throws IOException, InterruptedException {
        if (!settings.usesLora()) {
            return new FullWeights(model);
        }
        LoraConfig config = new LoraConfig(settings.loraRank(), settings.loraAlpha(), 0.0, settings.targets());
        LoraModel lora;
        if (settings.fila()) {
            try (FisherImportance importance = importanceFile != null
                    ? FisherImportance.load(importanceFile, model.manager())
                    : fisherPass(model, forgetSet, retainSet, settings.targets(), settings.seed(), Map.of())) {
                lora = LoraModel.attachFila(model, config, importance, settings.seed());
            }
        } else {
            lora = LoraModel.attach(model, config, settings.seed());
        }
        return new LoraWeights(lora, settings.fila(),
                baseName != null ? baseName : modelPath.toAbsolutePath().toString());
    }

    /**
     * The settings' hyper-parameters and how this engine ran them (weight type, checkpointing, evaluation,
     * micro-batch weighting), as the report lists them: strings, so the map stays flat and schema-free.
     */
    private Map<String, String> runHyperparameters(UnlearnSettings s, CausalLm model) {
        Map<String, String> hp = new LinkedHashMap<>(hyperparameters(s));
        hp.put("weight_dtype", weightType == DataType.FLOAT16 ? "float16" : "float32");
        hp.put("export_dtype", HfExporter.torchDtype(model.exportType()));
        hp.put("activation_checkpointing", Boolean.toString(checkpointing));
        hp.put("epoch_evaluation", evaluation == EpochEvaluation.STOP_RULE ? "stop-rule" : "every-epoch");
        hp.put("micro_batch_weighting", weighting.id());
        return hp;
    }

    static Map<String, String> hyperparameters(UnlearnSettings s) {
        Map<String, String> hp = new LinkedHashMap<>();
        hp.put("lora_rank", Integer.toString(s.loraRank()));
        hp.put("lora_alpha", Double.toString(s.loraAlpha()));
        hp.put("targets", String.join(",", s.targets()));
        hp.put("fila", Boolean.toString(s.fila()));
        hp.put("learning_rate", Double.toString(s.learningRate()));
        hp.put("max_epochs", Integer.toString(s.maxEpochs()));
        hp.put("batch_size", Integer.toString(s.batchSize()));
        hp.put("optimizer", String.format(Locale.ROOT, "adam(beta1=%s,beta2=%s,eps=%s,weight_decay=%s)",
                UnlearningLoop.ADAM.beta1(), UnlearningLoop.ADAM.beta2(), UnlearningLoop.ADAM.epsilon(),
                UnlearningLoop.ADAM.weightDecay()));
        hp.put("schedule", "constant");
        hp.put("steps_per_epoch", "1");
        hp.put("fisher_batch_size", Integer.toString(FISHER_BATCH_SIZE));
        hp.put("retain_sampling", "uniform_with_replacement_per_epoch");
        hp.put("stop_rule", "forget_ma<unseen_ma and forget_el10<unseen_el10");
        return hp;
    }
}
