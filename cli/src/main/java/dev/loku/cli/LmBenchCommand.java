package dev.loku.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.loku.core.lora.LoraConfig;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.DecoderModel;
import dev.loku.core.model.Devices;
import dev.loku.core.model.ModelConfig;
import dev.loku.core.model.TokenBatch;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.DoubleSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku bench lm}: forward, full forward+backward and LoRA forward+backward throughput of a randomly
 * initialised model (a Llama or GPT-Neo preset) at several batch and sequence sizes, with the achieved GFLOP/s next
 * to that of one plain libtorch matrix product of the model's dominant shape ({@code [batch·seq, hidden] ×
 * [hidden, intermediate]}) timed in the same run, so the figures can be read against what the machine's BLAS
 * delivers.
 */
@Command(name = "lm", description = "Forward and forward+backward (full and LoRA) tokens/s and GFLOP/s of a"
        + " random-weight model.")
final class LmBenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", defaultValue = "llama-125m", paramLabel = "PRESET",
            description = "llama-125m, llama-1b, gpt-neo-125m or tiny. Default: ${DEFAULT-VALUE}.")
    String config;

    @Option(names = "--batch", split = ",", defaultValue = "1,4", paramLabel = "B",
            description = "Batch sizes, comma-separated. Default: ${DEFAULT-VALUE}.")
    List<Integer> batches;

    @Option(names = "--seq", split = ",", defaultValue = "128,256", paramLabel = "T",
            description = "Sequence lengths, comma-separated. Default: ${DEFAULT-VALUE}.")
    List<Integer> seqs;

    @Option(names = "--iters", defaultValue = "2", description = "Timed repetitions per size. Default: ${DEFAULT-VALUE}.")
    int iters;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed repetitions first. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--no-backward", description = "Only measure the forward pass.")
    boolean noBackward;

    @Option(names = "--lora-rank", defaultValue = "8", paramLabel = "R",
            description = "Rank of the LoRA adapters (on every projection) whose forward+backward is timed; 0 skips"
                    + " it. Default: ${DEFAULT-VALUE}.")
    int loraRank;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--seed", defaultValue = "1", description = "Seed for weights and token ids. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public void run() {
        if (iters < 1 || warmup < 0 || loraRank < 0) {
            throw new UserException("--iters must be at least 1, --warmup and --lora-rank at least 0");
        }
        ModelConfig cfg;
        Device dev;
        try {
            cfg = ModelConfig.preset(config);
            dev = Devices.parse(device);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        long t0 = System.nanoTime();
        long mlp = cfg.intermediateSize();
        try (DecoderModel model = DecoderModel.randomInit(cfg, null, seed, dev)) {
            out.printf(Locale.ROOT, "model %s (%s): %.1fM parameters (hidden %d, %d layers, %d/%d heads, mlp %d,"
                            + " vocab %d), initialised in %.1f s%n", config, cfg.family().architecture(),
                    model.parameterCount() / 1e6, cfg.hiddenSize(), cfg.numLayers(), cfg.numHeads(),
                    cfg.numKvHeads(), mlp, cfg.vocabSize(), (System.nanoTime() - t0) / 1e9);
            out.printf(Locale.ROOT, "device %s, libtorch intra-op threads %d, %d timed iterations after %d warm-up%n",
                    dev.isGpu() ? "gpu:" + dev.getDeviceId() : "cpu", JniUtils.getNumThreads(), iters, warmup);
            out.printf(Locale.ROOT, "%5s %5s %7s | %11s %9s | %11s %9s | %11s %9s | %-22s %9s%n", "batch", "seq",
                    "tokens", "fwd tok/s", "GFLOP/s", "f+b tok/s", "GFLOP/s", "LoRA tok/s", "GFLOP/s",
                    "matmul M x K x N", "GFLOP/s");
            out.flush();
            Random rnd = new Random(seed);
            for (int b : batches) {
                for (int t : seqs) {
                    if (b < 1 || t < 2) {
                        throw new UserException("batch sizes must be at least 1 and sequence lengths at least 2");
                    }
                    TokenBatch batch = randomBatch(rnd, b, t, cfg.vocabSize());
                    double flops = cfg.forwardFlops(b, t);
                    double fwd = time(() -> forward(model, batch));
                    String fb = String.format(Locale.ROOT, "%11s %9s", "-", "-");
                    String lora = fb;
                    if (!noBackward) {
                        double both = time(() -> forwardBackward(model, batch));
                        fb = String.format(Locale.ROOT, "%11.1f %9.1f", b * t / both, 3 * flops / both / 1e9);
                        if (loraRank > 0) {
                            double adapted = loraForwardBackward(model, batch);
                            lora = String.format(Locale.ROOT, "%11.1f %9.1f", b * t / adapted,
                                    2 * flops / adapted / 1e9);
                        }
                    }
                    long m = (long) b * t;
                    double mm = time(() -> matmul(dev, m, cfg.hiddenSize(), mlp));
                    out.printf(Locale.ROOT, "%5d %5d %7d | %11.1f %9.1f | %s | %s | %-22s %9.1f%n", b, t, b * t,
                            b * t / fwd, flops / fwd / 1e9, fb, lora, m + " x " + cfg.hiddenSize() + " x " + mlp,
                            2.0 * m * cfg.hiddenSize() * mlp / mm / 1e9);
                    out.flush();
                }
            }
            out.println("GFLOP/s counts 2 per multiply-add of every projection and the head plus the full seq x seq"
                    + " attention products; full forward+backward counts 3x the forward, LoRA forward+backward"
                    + " (rank " + loraRank + " on every projection, gradients of the adapters only) 2x.");
            out.flush();
        }
    }

    /** Median seconds of {@code iters} timed runs after the warm-up runs. */
    private double time(DoubleSupplier run) {
        for (int i = 0; i < warmup; i++) {
            run.getAsDouble();
        }
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < iters; i++) {
            times.add(run.getAsDouble());
        }
        times.sort(Double::compare);
        return times.get(times.size() / 2);
    }

    private static TokenBatch randomBatch(Random rnd, int b, int t, int vocab) {
        List<int[]> rows = new ArrayList<>();
        for (int r = 0; r < b; r++) {
            int[] ids = new int[t];
            for (int i = 0; i < t; i++) {
                ids[i] = rnd.nextInt(vocab);
            }
            rows.add(ids);
        }
        return TokenBatch.of(rows, TokenBatch.Padding.RIGHT, 0);
    }

    private static double forward(CausalLm model, TokenBatch batch) {
        try (NDManager m = NDManager.newBaseManager(model.device())) {
            long start = System.nanoTime();
            NDArray logits = model.logits(m, batch);
            logits.getFloat(0, 0, 0); // wait for the device
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /** Median seconds of forward+backward with adapters on every projection, only they requiring gradients. */
    private double loraForwardBackward(CausalLm model, TokenBatch batch) {
        LoraConfig config = new LoraConfig(loraRank, 2.0 * loraRank, 0, LoraConfig.ALL_TARGETS);
        try (LoraModel lora = LoraModel.attach(model, config, seed)) {
            return time(() -> {
                try (NDManager m = NDManager.newBaseManager(model.device())) {
                    long start = System.nanoTime();
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(model.meanNll(m, batch));
                    }
                    NDArray p = lora.trainableParameters().values().iterator().next();
                    NDArray g = p.getGradient();
                    g.getFloat(0, 0); // wait for the device
                    double seconds = (System.nanoTime() - start) / 1e9;
                    g.close();
                    lora.trainableParameters().values().forEach(a -> {
                        try (NDArray grad = a.getGradient()) {
                            grad.subi(grad);
                        }
                    });
                    return seconds;
                }
            });
        }
    }

    private static double forwardBackward(CausalLm model, TokenBatch batch) {
        for (NDArray p : model.parameters().values()) {
            p.setRequiresGradient(true);
        }
        try (NDManager m = NDManager.newBaseManager(model.device())) {
            long start = System.nanoTime();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.meanNll(m, batch));
            }
            NDArray g = model.parameters().values().iterator().next().getGradient();
            g.getFloat(0, 0); // wait for the device
            double seconds = (System.nanoTime() - start) / 1e9;
            g.close();
            return seconds;
        } finally {
            for (NDArray p : model.parameters().values()) {
                // Drops the accumulated gradient buffers, so every timed step starts alike.
                p.setRequiresGradient(false);
            }
        }
    }

    private static double matmul(Device dev, long m, long k, long n) {
        try (NDManager mgr = NDManager.newBaseManager(dev)) {
            NDArray a = mgr.randomNormal(0, 1, new Shape(m, k), DataType.FLOAT32);
            NDArray b = mgr.randomNormal(0, 1, new Shape(k, n), DataType.FLOAT32);
            long start = System.nanoTime();
            NDArray c = a.matMul(b);
            c.getFloat(0, 0);
            return (System.nanoTime() - start) / 1e9;
        }
    }
}
