package dev.loku.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.engine.EpochEvaluation;
import dev.loku.core.engine.EpochRecord;
import dev.loku.core.engine.RecordSetEvaluator;
import dev.loku.core.engine.UnlearnSettings;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.fila.RandomizedSvd;
import dev.loku.core.fila.TruncatedSvd;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.fisher.FisherPass;
import dev.loku.core.lora.LoraConfig;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.metrics.ExtractionLikelihood;
import dev.loku.core.metrics.ExtractionTarget;
import dev.loku.core.metrics.SequenceMeans;
import dev.loku.core.metrics.Thresholds;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.DecoderModel;
import dev.loku.core.model.HfExporter;
import dev.loku.core.model.ModelConfig;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.objective.InvertedHingeLoss;
import dev.loku.core.objective.ObjectiveInputs;
import dev.loku.core.objective.ScoredBatch;
import dev.loku.core.train.AdamW;
import dev.loku.core.train.AdamWConfig;
import dev.loku.core.train.Gradients;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku bench peer}: the same work timed in the engine and in PyTorch + transformers + PEFT, in one
 * invocation, side by side. The engine side runs first; it writes the model (the same weights, through
 * {@link HfExporter}) and the token ids to a work folder; then {@code tools/peer/peer.py} runs the same items there
 * under the same thread count and prints its seconds as JSON. Each row shows both figures, the ratio (engine speed
 * over peer speed: above 1 the engine is faster) and check values that show both sides computed the same thing. The
 * two sides run one after the other, never at once, so neither steals the other's cores; the machine's load average
 * is printed before and after.
 */
@Command(name = "peer", description = "The engine against PyTorch + transformers + PEFT on the same work, side by"
        + " side (tools/peer/peer.py is the Python side).")
@SuppressWarnings("try") // NoGrad is a scope guard
final class PeerBenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", defaultValue = "stories260K", paramLabel = "MODEL",
            description = "stories260K (models/stories260K), a preset (llama-125m, gpt-neo-125m, tiny) with random"
                    + " weights, or a model folder. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads on both sides. Default:"
            + " ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--peer-malloc", defaultValue = "default", description = "The Python side's glibc allocator"
            + " settings: default (every MALLOC_* variable removed, as a user's `python3 script.py` runs) or inherit"
            + " (the engine's, which ./loku sets). Default: ${DEFAULT-VALUE}.")
    String peerMalloc;

    @Option(names = "--batch", defaultValue = "4", description = "Rows of the forward, LoRA and training batches."
            + " Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--seq", defaultValue = "256", description = "Tokens per row. Default: ${DEFAULT-VALUE}.")
    int seq;

    @Option(names = "--prompts", defaultValue = "8", description = "Prompts generated at once. Default:"
            + " ${DEFAULT-VALUE}.")
    int prompts;

    @Option(names = "--prompt-length", defaultValue = "32", description = "Tokens per prompt. Default:"
            + " ${DEFAULT-VALUE}.")
    int promptLength;

    @Option(names = "--new-tokens", defaultValue = "64", description = "Greedy tokens per prompt (EOS ignored)."
            + " Default: ${DEFAULT-VALUE}.")
    int newTokens;

    @Option(names = "--el-sequences", defaultValue = "32", description = "Sequences scored by EL_10. Default:"
            + " ${DEFAULT-VALUE}.")
    int elSequences;

    @Option(names = "--el-length", defaultValue = "200", description = "Tokens per EL_10 sequence. Default:"
            + " ${DEFAULT-VALUE}.")
    int elLength;

    @Option(names = "--el-naive", defaultValue = "2", description = "Sequences also scored by the naive EL_10 path"
            + " (one prefix at a time, no shared prefill), for the batched/naive ratio; 0 skips it. Default:"
            + " ${DEFAULT-VALUE}.")
    int elNaive;

    @Option(names = "--lora-rank", defaultValue = "8", description = "LoRA rank on every projection. Default:"
            + " ${DEFAULT-VALUE}.")
    int loraRank;

    @Option(names = "--iters", defaultValue = "3", description = "Timed repetitions (median). Default:"
            + " ${DEFAULT-VALUE}.")
    int iters;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed repetitions first. Default:"
            + " ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--python", paramLabel = "EXE", description = "The Python with torch, transformers and peft."
            + " Default: $LOKU_PYTHON, else .ci/venv/bin/python, else python3.")
    String python;

    @Option(names = "--no-peer", description = "Only the engine side.")
    boolean noPeer;

    @Option(names = "--seed", defaultValue = "1", description = "Seed for weights and token ids. Default:"
            + " ${DEFAULT-VALUE}.")
    long seed;

    /** The figures of one side, by item, in seconds; the check values beside them. */
    private record Side(Map<String, Double> seconds, Map<String, Object> checks) {}

    /** Products per GEMM timing (the figure is per product), so that a small model's GEMM is not one JNI call. */
    static final int GEMM_REPEATS = 10;

    private static final String[][] ROWS = {
        {"forward", "forward, no grad"},
        {"lora_fb", "LoRA forward+backward"},
        {"train_step", "LoRA IHL+NLL step + Adam"},
        {"generate", "greedy generation"},
        {"el", "EL_10 (batched)"},
        {"fisher", "Fisher pass (forget+retain)"},
        {"fila", "FILA attach"},
        {"fila_sketch", "FILA, the peer's sketch"},
        {"epoch_full", "epoch + full evaluation"},
        {"epoch_stop_rule", "epoch + stop-rule eval"},
        {"gemm", "GEMM M x K x N"},
    };

    @Override
    public void run() {
        if (threads < 1 || batch < 1 || seq < 2 || prompts < 1 || promptLength < 1 || newTokens < 1
                || elSequences < 1 || elLength < 12 || iters < 1 || warmup < 0 || loraRank < 1 || elNaive < 0) {
            throw new UserException("sizes must be positive (--seq at least 2, --el-length at least 12)");
        }
        if (!"default".equals(peerMalloc) && !"inherit".equals(peerMalloc)) {
            throw new UserException("--peer-malloc must be default or inherit, not " + peerMalloc);
        }
        PrintWriter out = spec.commandLine().getOut();
        Path root = Path.of(System.getProperty("loku.project.root", ".")).toAbsolutePath().normalize();
        Engine.getEngine("PyTorch"); // loads libtorch, which the thread settings below call into
        JniUtils.setNumThreads(threads);
        JniUtils.setNumInteropThreads(1);
        Path work;
        try {
            work = Files.createTempDirectory("loku-peer-");
        } catch (IOException e) {
            throw new UserException("cannot create a work folder: " + e.getMessage(), e);
        }
        try (DecoderModel m = open(root)) {
            String loadBefore = loadAverage();
            ModelConfig cfg = m.config();
            Random rnd = new Random(seed);
            int[][] forgetRows = randomRows(rnd, batch, seq, cfg.vocabSize());
            int[][] retainRows = randomRows(rnd, batch, seq, cfg.vocabSize());
            int[][] promptRows = randomRows(rnd, prompts, promptLength, cfg.vocabSize());
            int[][] elRows = randomRows(rnd, elSequences, elLength, cfg.vocabSize());
            int[][] epochRetainRows = randomRows(rnd, elSequences, elLength, cfg.vocabSize());
            long[] gemm = {(long) batch * seq, cfg.hiddenSize(), cfg.intermediateSize()};
            List<String> kinds = m.linearProjections().stream().map(p -> p.kind()).distinct().toList();
            Set<Integer> eos = new LinkedHashSet<>(cfg.eosTokenIds());
            if (m.tokenizer() != null && m.tokenizer().eosId() >= 0) {
                eos.add(m.tokenizer().eosId());
            }
            out.printf(Locale.ROOT, "model %s (%s, %.2fM parameters), %d threads on each side (libtorch intra-op"
                            + " %d), %d timed repetitions after %d warm-up (median), %d cores online%n", model,
                    cfg.family().architecture(), m.parameterCount() / 1e6, threads, JniUtils.getNumThreads(), iters,
                    warmup, Runtime.getRuntime().availableProcessors());
            out.printf(Locale.ROOT, "batch %d x %d tokens; generation %d prompts x %d tokens + %d new; EL_10 over"
                            + " %d sequences x %d tokens; LoRA rank %d on %s; engine glibc MALLOC_ARENA_MAX=%s"
                            + " MALLOC_MMAP_MAX_=%s MALLOC_MMAP_THRESHOLD_=%s MALLOC_TRIM_THRESHOLD_=%s, peer %s%n", batch,
                    seq, prompts, promptLength, newTokens, elSequences, elLength, loraRank, kinds,
                    env("MALLOC_ARENA_MAX"), env("MALLOC_MMAP_MAX_"), env("MALLOC_MMAP_THRESHOLD_"),
                    env("MALLOC_TRIM_THRESHOLD_"),
                    "inherit".equals(peerMalloc) ? "the same" : "glibc's defaults (MALLOC_* removed)");
            out.flush();

            Side engine = engineSide(m, forgetRows, retainRows, promptRows, elRows, gemm);
            epochs(m, elRows, epochRetainRows, engine.seconds());
            Double naiveRatio = elNaive > 0 ? naiveRatio(m, elRows, out) : null;
            String loadMiddle = loadAverage();
            Side peer = null;
            String peerProblem = null;
            if (noPeer) {
                peerProblem = "--no-peer";
            } else {
                ObjectNode w = CliJson.MAPPER.createObjectNode();
                Path modelDir = work.resolve("model");
                HfExporter.export(m, modelDir);
                w.put("model", modelDir.toString());
                w.put("threads", threads);
                w.put("iters", iters);
                w.put("warmup", warmup);
                w.put("seed", seed);
                w.set("batch", CliJson.MAPPER.valueToTree(forgetRows));
                w.set("retain", CliJson.MAPPER.valueToTree(retainRows));
                w.set("prompts", CliJson.MAPPER.valueToTree(promptRows));
                w.put("new_tokens", newTokens);
                w.set("el_sequences", CliJson.MAPPER.valueToTree(elRows));
                w.set("epoch_retain", CliJson.MAPPER.valueToTree(epochRetainRows));
                w.put("eval_batch", RecordSetEvaluator.DEFAULT_BATCH_SIZE);
                w.put("el_n", ExtractionLikelihood.DEFAULT_N);
                w.put("el_batch", RecordSetEvaluator.DEFAULT_GENERATION_BATCH);
                w.set("eos", CliJson.MAPPER.valueToTree(eos));
                w.put("lora_rank", loraRank);
                w.set("lora_targets", CliJson.MAPPER.valueToTree(kinds));
                w.set("gemm", CliJson.MAPPER.valueToTree(gemm));
                w.put("gemm_repeats", GEMM_REPEATS);
                try {
                    Path workFile = work.resolve("work.json");
                    Files.writeString(workFile, CliJson.write(w));
                    peer = peerSide(root, workFile, out);
                } catch (PeerUnavailable e) {
                    peerProblem = e.getMessage();
                } catch (IOException e) {
                    throw new UserException("cannot write the peer's work file: " + e.getMessage(), e);
                }
            }
            String loadAfter = loadAverage();
            print(out, cfg, engine, peer, peerProblem, gemm);
            if (naiveRatio != null) {
                out.printf(Locale.ROOT, "EL_10 batched (shared prefill + KV cache) against naive (one prefix per"
                        + " call, no cache) on the first %d sequences: %.1fx%n", Math.min(elNaive, elSequences),
                        naiveRatio);
            }
            out.printf(Locale.ROOT, "load average (1 min) before %s, between the sides %s, after %s%n", loadBefore,
                    loadMiddle, loadAfter);
            out.flush();
        } finally {
            deleteTree(work);
        }
    }

    private DecoderModel open(Path root) {
        try {
            if (model.equals("stories260K")) {
                return ModelLoader.load(root.resolve("models/stories260K"));
            }
            Path dir = Path.of(model);
            if (Files.isDirectory(dir)) {
                return ModelLoader.load(dir);
            }
            return DecoderModel.randomInit(ModelConfig.preset(model), null, seed, Device.cpu());
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
    }

    // ---- the engine side ----------------------------------------------------------------------------------------

    private Side engineSide(DecoderModel m, int[][] forgetRows, int[][] retainRows, int[][] promptRows,
                            int[][] elRows, long[] gemm) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        Map<String, Object> checks = new LinkedHashMap<>();
        TokenBatch forget = TokenBatch.of(Arrays.asList(forgetRows), TokenBatch.Padding.RIGHT, 0);
        TokenBatch retain = TokenBatch.of(Arrays.asList(retainRows), TokenBatch.Padding.RIGHT, 0);

        seconds.put("gemm", median(() -> {
            try (NDManager mgr = NDManager.newBaseManager(m.device())) {
                NDArray a = mgr.randomNormal(0, 1, new Shape(gemm[0], gemm[1]), DataType.FLOAT32);
                NDArray b = mgr.randomNormal(0, 1, new Shape(gemm[1], gemm[2]), DataType.FLOAT32);
                long start = System.nanoTime();
                for (int i = 0; i < GEMM_REPEATS; i++) {
                    try (NDArray c = a.matMul(b)) {
                        c.getFloat(0, 0);
                    }
                }
                return (System.nanoTime() - start) / 1e9 / GEMM_REPEATS;
            }
        }));
        try (NoGrad ignored = NoGrad.enter(); NDManager mgr = m.manager().newSubManager()) {
            checks.put("logit_sum", sum(m.logits(mgr, forget)));
        }
        seconds.put("forward", median(() -> {
            try (NoGrad ignored = NoGrad.enter(); NDManager mgr = m.manager().newSubManager()) {
                long start = System.nanoTime();
                m.logits(mgr, forget).getFloat(0, 0, 0);
                return (System.nanoTime() - start) / 1e9;
            }
        }));
        int[] budgets = new int[promptRows.length];
        Arrays.fill(budgets, newTokens);
        List<List<int[]>> generated = new ArrayList<>();
        seconds.put("generate", median(() -> {
            long start = System.nanoTime();
            List<int[]> g = m.generateGreedy(Arrays.asList(promptRows), budgets, false);
            double s = (System.nanoTime() - start) / 1e9;
            generated.clear();
            generated.add(g);
            return s;
        }));
        checks.put("generated", generated.get(0));

        List<EncodedExample> elExamples = examples(elRows);
        long start = System.nanoTime();
        try {
            checks.put("el", new RecordSetEvaluator(RecordSetEvaluator.DEFAULT_BATCH_SIZE,
                    RecordSetEvaluator.DEFAULT_GENERATION_BATCH).extractionLikelihood(m, elExamples));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted", e);
        }
        seconds.put("el", (System.nanoTime() - start) / 1e9);

        LoraConfig lc = new LoraConfig(loraRank, 2.0 * loraRank, 0, LoraConfig.ALL_TARGETS);
        try (LoraModel lora = LoraModel.attach(m, lc, seed)) {
            lora.setTraining(true);
            Map<String, NDArray> params = lora.trainableParameters();
            seconds.put("lora_fb", median(() -> {
                try (NDManager mgr = m.manager().newSubManager()) {
                    long t0 = System.nanoTime();
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(m.meanNll(mgr, forget));
                    }
                    params.values().iterator().next().getGradient().getFloat(0, 0);
                    double s = (System.nanoTime() - t0) / 1e9;
                    Gradients.zero(params.values());
                    return s;
                }
            }));
            try (NDManager scope = m.manager().newSubManager();
                    AdamW adam = new AdamW(new AdamWConfig(0.9, 0.98, 1e-8, 0.0), scope)) {
                InvertedHingeLoss ihl = new InvertedHingeLoss();
                seconds.put("train_step", median(() -> {
                    try (NDManager mgr = m.manager().newSubManager()) {
                        long t0 = System.nanoTime();
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            ScoredBatch f = new ScoredBatch(m.logits(mgr, forget), forget.labelsArray(mgr));
                            ScoredBatch r = new ScoredBatch(m.logits(mgr, retain), retain.labelsArray(mgr));
                            gc.backward(ihl.compute(new ObjectiveInputs(f, r, null, null)).total());
                        }
                        Map<String, NDArray> grads = Gradients.of(params);
                        adam.step(params, grads, 1e-4);
                        grads.values().forEach(NDArray::close);
                        Gradients.zero(params.values());
                        params.values().iterator().next().getFloat(0, 0);
                        return (System.nanoTime() - t0) / 1e9;
                    }
                }));
            }
        }
        fisherAndFila(m, forgetRows, retainRows, lc, seconds, checks);
        return new Side(seconds, checks);
    }

    /**
     * The Fisher pass over the forget and the retain batch (one micro-batch each, every projection weight), then
     * FILA's attach from that importance (relative importance, row weights, rank-r SVD, residual base). FILA rewrites
     * the base weights it covers; they are put back after each repetition, outside the timing.
     */
    private void fisherAndFila(DecoderModel m, int[][] forgetRows, int[][] retainRows, LoraConfig lc,
                               Map<String, Double> seconds, Map<String, Object> checks) {
        List<EncodedExample> forget = textExamples(forgetRows);
        List<EncodedExample> retain = textExamples(retainRows);
        FisherImportance[] importance = new FisherImportance[1];
        try {
            seconds.put("fisher", median(() -> {
                if (importance[0] != null) {
                    importance[0].close();
                }
                long t0 = System.nanoTime();
                try {
                    importance[0] = FisherPass.run(m, forget, retain, null, batch, Map.of());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new UserException("interrupted", e);
                }
                return (System.nanoTime() - t0) / 1e9;
            }));
            double forgetSum = 0;
            for (String name : importance[0].names()) {
                forgetSum += sum(importance[0].forgetSum(name));
            }
            checks.put("fisher_forget_sum", forgetSum);
            try (NDManager saved = m.manager().newSubManager()) {
                Map<String, NDArray> originals = new LinkedHashMap<>();
                for (String name : importance[0].names()) {
                    NDArray copy = m.parameter(name).duplicate();
                    copy.attach(saved);
                    originals.put(name, copy);
                }
                // The engine's default attach, then one with the peer's own SVD (torch.svd_lowrank with q = r: an
                // r-column sketch, two power iterations) for the same-work row.
                TruncatedSvd peerSketch = new RandomizedSvd(0, RandomizedSvd.DEFAULT_POWER_ITERATIONS, seed);
                Map<String, Supplier<LoraModel>> attaches = new LinkedHashMap<>();
                attaches.put("fila", () -> LoraModel.attachFila(m, lc, importance[0], seed));
                attaches.put("fila_sketch", () -> LoraModel.attachFila(m, lc, importance[0], peerSketch));
                for (Map.Entry<String, Supplier<LoraModel>> attach : attaches.entrySet()) {
                    seconds.put(attach.getKey(), median(() -> {
                        long t0 = System.nanoTime();
                        double s;
                        try (LoraModel lora = attach.getValue().get()) {
                            lora.trainableParameters().values().iterator().next().getFloat(0, 0);
                            s = (System.nanoTime() - t0) / 1e9;
                        }
                        originals.forEach((name, copy) -> copy.copyTo(m.parameter(name)));
                        return s;
                    }));
                }
            }
        } finally {
            if (importance[0] != null) {
                importance[0].close();
            }
        }
    }

    /**
     * One unlearning epoch as the worker runs it ({@link UnlearningEngine#runEpochs}: LoKU's inverted hinge loss plus
     * retain NLL, micro-batches of {@code --batch} accumulated into one Adam update, then the epoch's evaluation), on
     * the EL_10 sequences as the forget set and as many retain sequences. Two rows: with every metric measured after
     * the update (forget MA and EL_10, retain MA and NLL: what a run that reports the full curves pays), timed once;
     * and with the stop rule's evaluation in an epoch before forget MA falls below its threshold (forget MA only: what
     * most epochs of a worker's run pay), the median of the middle epochs of one run. Plain LoRA (FILA's residual would
     * change the model the other rows use); its factors are removed after each run.
     */
    private void epochs(CausalLm m, int[][] forgetRows, int[][] retainRows, Map<String, Double> seconds) {
        List<EncodedExample> forget = examples(forgetRows);
        List<EncodedExample> retain = examples(retainRows);
        UnlearnSettings settings = UnlearnSettings.loku().withFila(false).withLoraRank(loraRank).withBatchSize(batch)
                .withSeed(seed);
        Thresholds never = new Thresholds(0, 0);
        RecordSetEvaluator evaluator = new RecordSetEvaluator(RecordSetEvaluator.DEFAULT_BATCH_SIZE,
                RecordSetEvaluator.DEFAULT_GENERATION_BATCH);
        try {
            List<EpochRecord> full = new UnlearningEngine(m.device(), evaluator)
                    .withEpochEvaluation(EpochEvaluation.EVERY_EPOCH)
                    .runEpochs(m, forget, retain, settings.withMaxEpochs(1), never);
            seconds.put("epoch_full", full.get(1).seconds());
            // Epochs 1 .. warmup+iters are middle epochs; the last one also scores the retain set (training ends).
            List<EpochRecord> stopRule = new UnlearningEngine(m.device(), evaluator)
                    .withEpochEvaluation(EpochEvaluation.STOP_RULE)
                    .runEpochs(m, forget, retain, settings.withMaxEpochs(warmup + iters + 1), never);
            double[] middle = stopRule.subList(warmup + 1, warmup + iters + 1).stream()
                    .mapToDouble(EpochRecord::seconds).sorted().toArray();
            seconds.put("epoch_stop_rule", middle[middle.length / 2]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted", e);
        }
    }

    /** Seconds of the naive EL_10 path over seconds of the batched one, both on the first sequences. */
    private double naiveRatio(DecoderModel m, int[][] elRows, PrintWriter out) {
        int n = Math.min(elNaive, elRows.length);
        List<ExtractionTarget> targets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            targets.add(new ExtractionTarget(elRows[i], 0));
        }
        try (NoGrad ignored = NoGrad.enter()) {
            long t0 = System.nanoTime();
            double naive = SequenceMeans.mean(ExtractionLikelihood.naivePerSequence(targets,
                    ExtractionLikelihood.DEFAULT_N, (p, maxNew) -> m.generateGreedy(p, maxNew, true)));
            double naiveSeconds = (System.nanoTime() - t0) / 1e9;
            long t1 = System.nanoTime();
            double batched = new RecordSetEvaluator(RecordSetEvaluator.DEFAULT_BATCH_SIZE,
                    RecordSetEvaluator.DEFAULT_GENERATION_BATCH).extractionLikelihood(m,
                    examples(Arrays.copyOf(elRows, n)));
            double batchedSeconds = (System.nanoTime() - t1) / 1e9;
            out.printf(Locale.ROOT, "EL_10 on %d sequences: naive %.2f s (EL %.4f), batched %.2f s (EL %.4f)%n", n,
                    naiveSeconds, naive, batchedSeconds, batched);
            return naiveSeconds / batchedSeconds;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted", e);
        }
    }

    /**
     * The rows as the encoder makes a text record: every token labelled but the first (the BOS, which no position
     * predicts), so the Fisher pass's n_b is the batch's predicted tokens, as in the peer's loss.
     */
    private static List<EncodedExample> textExamples(int[][] rows) {
        List<EncodedExample> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            int[] labels = rows[i].clone();
            labels[0] = CausalLmLoss.IGNORE_INDEX;
            out.add(new EncodedExample(rows[i], labels, rows[i].length, i + 1));
        }
        return out;
    }

    private static List<EncodedExample> examples(int[][] rows) {
        List<EncodedExample> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            out.add(new EncodedExample(rows[i], rows[i], rows[i].length, i + 1));
        }
        return out;
    }

    // ---- the peer side ------------------------------------------------------------------------------------------

    /** Why the Python side did not run, in one line. */
    private static final class PeerUnavailable extends Exception {
        private static final long serialVersionUID = 1L;

        PeerUnavailable(String message) {
            super(message, null, false, false);
        }
    }

    private Side peerSide(Path root, Path workFile, PrintWriter out) throws PeerUnavailable {
        Path script = root.resolve("tools/peer/peer.py");
        if (!Files.isRegularFile(script)) {
            throw new PeerUnavailable(script + " is missing");
        }
        String exe = pythonExecutable(root);
        out.printf(Locale.ROOT, "peer: %s %s (runs after the engine side)%n", exe, root.relativize(script));
        out.flush();
        Path log = workFile.resolveSibling("peer.log");
        Path result = workFile.resolveSibling("peer.json");
        ProcessBuilder pb = new ProcessBuilder(exe, script.toString(), workFile.toString())
                .redirectOutput(result.toFile()).redirectError(log.toFile());
        String t = Integer.toString(threads);
        if (!"inherit".equals(peerMalloc)) {
            // ./loku tunes glibc for the engine's JVM; a user runs the Python side with the allocator as it comes.
            pb.environment().keySet().removeIf(name -> name.startsWith("MALLOC_"));
        }
        pb.environment().put("OMP_NUM_THREADS", t);
        pb.environment().put("MKL_NUM_THREADS", t);
        pb.environment().put("TOKENIZERS_PARALLELISM", "false");
        pb.environment().put("HF_HUB_OFFLINE", "1");
        pb.environment().put("TRANSFORMERS_OFFLINE", "1");
        try {
            Process p = pb.start();
            if (!p.waitFor(2, TimeUnit.HOURS)) {
                p.destroyForcibly();
                throw new PeerUnavailable("the Python side ran past 2 hours");
            }
            if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                String last = lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1);
                throw new PeerUnavailable(last.contains("ModuleNotFoundError")
                        ? exe + " lacks torch/transformers/peft (" + last.trim() + "); set LOKU_PYTHON or --python"
                        : "the Python side failed: " + last.trim());
            }
            JsonNode json = CliJson.MAPPER.readTree(result.toFile());
            Map<String, Double> seconds = new LinkedHashMap<>();
            json.get("seconds").fields().forEachRemaining(e -> seconds.put(e.getKey(), e.getValue().asDouble()));
            Map<String, Object> checks = new LinkedHashMap<>();
            json.get("checks").fields().forEachRemaining(e -> checks.put(e.getKey(), e.getValue()));
            checks.put("versions", json.get("versions"));
            if (seconds.containsKey("fila")) {
                seconds.put("fila_sketch", seconds.get("fila")); // the peer has one FILA: its own sketch
            }
            return new Side(seconds, checks);
        } catch (IOException e) {
            throw new PeerUnavailable("cannot run " + exe + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PeerUnavailable("interrupted");
        }
    }

    private String pythonExecutable(Path root) {
        if (python != null) {
            return python;
        }
        String env = System.getenv("LOKU_PYTHON");
        if (env != null && !env.isBlank()) {
            return env;
        }
        Path venv = root.resolve(".ci/venv/bin/python");
        return Files.isExecutable(venv) ? venv.toString() : "python3";
    }

    // ---- output -------------------------------------------------------------------------------------------------

    private void print(PrintWriter out, ModelConfig cfg, Side engine, Side peer, String peerProblem, long[] gemm) {
        double tokens = (double) batch * seq;
        double genTokens = (double) prompts * newTokens;
        out.printf(Locale.ROOT, "%-28s | %12s %12s | %12s %12s | %7s%n", "item", "engine s", "engine rate",
                "peer s", "peer rate", "ratio");
        for (String[] row : ROWS) {
            String key = row[0];
            double e = engine.seconds().get(key);
            String unit;
            double work;
            switch (key) {
                case "generate" -> {
                    unit = "tok/s";
                    work = genTokens;
                }
                case "el" -> {
                    unit = "seq/s";
                    work = elSequences;
                }
                case "fisher" -> {
                    unit = "tok/s";
                    work = 2 * tokens;
                }
                case "fila", "fila_sketch", "epoch_full", "epoch_stop_rule" -> {
                    unit = "/s";
                    work = 1;
                }
                case "gemm" -> {
                    unit = "GFLOP/s";
                    work = 2.0 * gemm[0] * gemm[1] * gemm[2] / 1e9;
                }
                default -> {
                    unit = "tok/s";
                    work = tokens;
                }
            }
            String label = key.equals("gemm") ? "GEMM " + gemm[0] + "x" + gemm[1] + "x" + gemm[2] : row[1];
            if (peer == null || !peer.seconds().containsKey(key)) {
                out.printf(Locale.ROOT, "%-28s | %12.4f %12s | %12s %12s | %7s%n", label, e,
                        rate(work / e, unit), "-", "-", "-");
            } else {
                double p = peer.seconds().get(key);
                out.printf(Locale.ROOT, "%-28s | %12.4f %12s | %12.4f %12s | %6.2fx%n", label, e,
                        rate(work / e, unit), p, rate(work / p, unit), p / e);
            }
        }
        // Forward F per batch; the LoRA backward is about F more (input gradients, small adapter terms); two batches.
        double flops = 2 * 2 * cfg.forwardFlops(batch, seq);
        out.printf(Locale.ROOT, "LoRA training step: %.1f GFLOP/s in the engine against %.1f GFLOP/s of the"
                        + " same-run GEMM (%.0f%%)%s%n", flops / engine.seconds().get("train_step") / 1e9,
                2.0 * gemm[0] * gemm[1] * gemm[2] / engine.seconds().get("gemm") / 1e9,
                100 * flops / engine.seconds().get("train_step")
                        / (2.0 * gemm[0] * gemm[1] * gemm[2] / engine.seconds().get("gemm")),
                peer == null ? "" : String.format(Locale.ROOT, "; peer %.1f GFLOP/s",
                        flops / peer.seconds().get("train_step") / 1e9));
        out.println("ratio = peer seconds / engine seconds (above 1.00x the engine is faster). Training-step FLOPs:"
                + " two forwards (forget, retain) at 2x forward cost each (LoRA backward: input gradients only).");
        if (peer == null) {
            out.println("peer side skipped: " + peerProblem);
            return;
        }
        out.println("peer versions: " + peer.checks().get("versions"));
        double el = ((Number) engine.checks().get("el")).doubleValue();
        double pel = ((JsonNode) peer.checks().get("el")).asDouble();
        double ls = ((Number) engine.checks().get("logit_sum")).doubleValue();
        double pls = ((JsonNode) peer.checks().get("logit_sum")).asDouble();
        @SuppressWarnings("unchecked")
        List<int[]> gen = (List<int[]>) engine.checks().get("generated");
        JsonNode pgen = (JsonNode) peer.checks().get("generated");
        int same = 0;
        int total = 0;
        for (int r = 0; r < gen.size(); r++) {
            for (int c = 0; c < gen.get(r).length; c++) {
                total++;
                if (pgen.get(r).get(c).asInt() == gen.get(r)[c]) {
                    same++;
                }
            }
        }
        out.printf(Locale.ROOT, "checks: logit sum engine %.6g peer %.6g; EL_10 engine %.5f peer %.5f; greedy tokens"
                + " equal %d of %d%n", ls, pls, el, pel, same, total);
        if (peer.checks().get("fisher_forget_sum") instanceof JsonNode pf) {
            out.printf(Locale.ROOT, "checks: Fisher forget sum (sum of n_b g^2 over every projection) engine %.6g"
                    + " peer %.6g%n", ((Number) engine.checks().get("fisher_forget_sum")).doubleValue(), pf.asDouble());
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private interface Timing {
        double seconds();
    }

    private double median(Timing t) {
        for (int i = 0; i < warmup; i++) {
            t.seconds();
        }
        double[] s = new double[iters];
        for (int i = 0; i < iters; i++) {
            s[i] = t.seconds();
        }
        Arrays.sort(s);
        return s[iters / 2];
    }

    private static double sum(NDArray a) {
        try (NDArray d = a.toType(DataType.FLOAT64, false).sum()) {
            return d.getDouble();
        }
    }

    private static int[][] randomRows(Random rnd, int rows, int length, int vocab) {
        int[][] out = new int[rows][length];
        for (int[] row : out) {
            row[0] = 1; // BOS, as a tokenizer would start every sequence
            for (int c = 1; c < length; c++) {
                row[c] = 3 + rnd.nextInt(vocab - 3); // no special ids (pad, BOS, EOS) inside the text
            }
        }
        return out;
    }

    private static String rate(double v, String unit) {
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.2f %s", v, unit);
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "unset" : v;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp folder left behind is harmless
        }
    }
}
