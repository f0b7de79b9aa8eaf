package dev.loku.core.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.fisher.FisherPass;
import dev.loku.core.lora.LoraConfig;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.DecoderModel;
import dev.loku.core.model.Devices;
import dev.loku.core.model.ModelConfig;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.InvertedHingeLoss;
import dev.loku.core.objective.ObjectiveInputs;
import dev.loku.core.objective.ScoredBatch;
import dev.loku.core.train.AdamW;
import dev.loku.core.train.AdamWConfig;
import dev.loku.core.train.Gradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The memory benchmark: for each model shape and weight type, a randomly initialised model, ONE LoRA + IHL training
 * step (forget and retain micro-batch forward, inverted hinge loss, backward, AdamW update of the adapters) and the
 * Fisher pass (one forget and one retain micro-batch over every projection weight), each with its peak memory and
 * time, next to the bytes of the weights. Prints one table; asserts nothing.
 *
 * <pre>
 *   java -Dai.djl.offline=true -cp unlearning-core/target/classes:$(cat cp.txt) dev.loku.core.bench.MemoryBench \
 *       [--device cpu|gpu] [--dtype fp32,fp16] [--shapes llama-125m,llama-1b,gpt-neo-125m] [--batch 1]
 *       [--seq 512] [--rank 8] [--phases step,fisher] [--checkpointing off,on]
 * </pre>
 * Shapes are {@link ModelConfig} presets ({@code llama-125m}, {@code llama-1b}, {@code gpt-neo-125m}, and, named
 * explicitly, {@code llama-7b}, {@code llama-13b}). It needs nothing but this module's runtime classpath, so that it
 * runs wherever a libtorch is (PYTORCH_LIBRARY_PATH for a CUDA one).
 *
 * <p>Memory is what the operating system or the device says, not an estimate: on the CPU the process's peak resident
 * set (VmHWM, reset through {@code /proc/self/clear_refs} before each phase; where that reset is refused, resident
 * memory sampled every 2 ms), on a GPU the device's used memory (total − free, sampled every 2 ms, after
 * libtorch's cache has been emptied before the phase, so it counts the caching allocator's reserve and the CUDA
 * context). Each figure is also given above the memory before the model was made, as a multiple of the weights'
 * bytes.
 */
public final class MemoryBench {

    private MemoryBench() {
    }

    /** One row of the table. */
    record Row(String shape, String dtype, boolean checkpointing, long params, long weightBytes, long base,
               long loaded, Phase step, Phase fisher) {}

    /** A phase's peak memory (absolute) and seconds; null when the phase did not run. */
    record Phase(long peak, double seconds) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = options(args);
        Device device = Devices.parse(opts.getOrDefault("device", "cpu"));
        List<String> dtypes = list(opts.getOrDefault("dtype", "fp32,fp16"));
        List<String> shapes = list(opts.getOrDefault("shapes", "llama-125m,llama-1b,gpt-neo-125m"));
        int batch = Integer.parseInt(opts.getOrDefault("batch", "1"));
        int seq = Integer.parseInt(opts.getOrDefault("seq", "512"));
        int rank = Integer.parseInt(opts.getOrDefault("rank", "8"));
        List<String> phases = list(opts.getOrDefault("phases", "step,fisher"));
        List<Boolean> checkpointing = list(opts.getOrDefault("checkpointing", "off")).stream()
                .map(MemoryBench::onOff).toList();
        MemoryProbe probe = MemoryProbe.forDevice(device);
        System.out.printf(Locale.ROOT, "memory bench: device %s, memory counter %s, batch %d x %d tokens, LoRA rank %d,"
                + " java heap max %d MiB%n", device, probe.describe(), batch, seq, rank,
                Runtime.getRuntime().maxMemory() >> 20);
        List<Row> rows = new ArrayList<>();
        for (String shape : shapes) {
            for (String dtype : dtypes) {
                if (weightType(dtype) == DataType.BFLOAT16) {
                    System.out.printf(Locale.ROOT, "%-13s %-5s skipped: DJL 0.36's PyTorch JNI has no bfloat16 (fp16"
                            + " stores the same bytes)%n", shape, dtype);
                    continue;
                }
                for (boolean ckpt : checkpointing) {
                    rows.add(run(ModelConfig.preset(shape), shape, weightType(dtype), dtype, ckpt, device, probe,
                            batch, seq, rank, phases));
                    printTable(rows.subList(rows.size() - 1, rows.size()), rows.size() == 1);
                }
            }
        }
        System.out.println();
        System.out.println("summary:");
        printTable(rows, true);
        probe.close();
    }

    static Row run(ModelConfig config, String shape, DataType type, String dtype, boolean checkpointing,
                   Device device, MemoryProbe probe, int batch, int seq, int rank, List<String> phases)
            throws Exception {
        System.gc();
        probe.settle();
        long base = probe.current();
        try (CausalLm model = DecoderModel.randomInit(config, null, 1, device, type)) {
            model.setActivationCheckpointing(checkpointing);
            long weightBytes = 0;
            for (NDArray w : model.parameters().values()) {
                weightBytes += w.size() * w.getDataType().getNumOfBytes();
            }
            probe.settle();
            long loaded = probe.current();
            Random random = new Random(7);
            List<EncodedExample> forget = examples(random, config.vocabSize(), batch, seq);
            List<EncodedExample> retain = examples(random, config.vocabSize(), batch, seq);
            Phase step = null;
            if (phases.contains("step")) {
                try (LoraModel lora = LoraModel.attach(model, LoraConfig.defaults(rank), 1)) {
                    step = measure(probe, () -> loraStep(model, lora, forget, retain));
                }
            }
            Phase fisher = phases.contains("fisher")
                    ? measure(probe, () -> FisherPass.run(model, forget, retain, null, batch, Map.of()).close())
                    : null;
            return new Row(shape, dtype, checkpointing, config.parameterCount(), weightBytes, base, loaded, step,
                    fisher);
        }
    }

    /** One LoRA + IHL step: forward of both micro-batches, loss, backward, AdamW update of the adapters. */
    static void loraStep(CausalLm model, LoraModel lora, List<EncodedExample> forget, List<EncodedExample> retain) {
        try (AdamW adam = new AdamW(AdamWConfig.torchDefaults(0.01), model.manager())) {
            Map<String, NDArray> params = lora.trainableParameters();
            try (NDManager scope = model.manager().newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                TokenBatch f = ModelBatches.of(forget, 0);
                TokenBatch r = ModelBatches.of(retain, 0);
                ScoredBatch fs = new ScoredBatch(model.logits(scope, f), f.labelsArray(scope));
                ScoredBatch rs = new ScoredBatch(model.logits(scope, r), r.labelsArray(scope));
                NDArray total = new InvertedHingeLoss().compute(ObjectiveInputs.of(fs, rs)).total();
                model.backward(gc, total);
            }
            Map<String, NDArray> grads = Gradients.of(params);
            adam.step(params, grads, 1e-4);
            grads.values().forEach(NDArray::close);
            Gradients.zero(params.values());
            // A read waits for the device to finish the step.
            params.values().iterator().next().sum().getFloat();
        }
    }

    private interface Work {
        void run() throws Exception;
    }

    private static Phase measure(MemoryProbe probe, Work work) throws Exception {
        System.gc();
        probe.settle();
        probe.startPeak();
        long t0 = System.nanoTime();
        work.run();
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Phase(probe.peak(), seconds);
    }

    /** {@code n} sequences of {@code length} random tokens (BOS 1 first), every position after the first a label. */
    public static List<EncodedExample> examples(Random random, int vocab, int n, int length) {
        List<EncodedExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] ids = new int[length];
            int[] labels = new int[length];
            ids[0] = 1;
            labels[0] = -100;
            for (int t = 1; t < length; t++) {
                ids[t] = 3 + random.nextInt(vocab - 3);
                labels[t] = ids[t];
            }
            out.add(new EncodedExample(ids, labels, length, i + 1));
        }
        return out;
    }

    static DataType weightType(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> DataType.FLOAT32;
            case "bf16", "bfloat16" -> DataType.BFLOAT16;
            case "fp16", "float16" -> DataType.FLOAT16;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "'; use fp32, bf16 or fp16");
        };
    }

    private static void printTable(List<Row> rows, boolean header) {
        if (header) {
            System.out.printf(Locale.ROOT, "%-13s %-5s %-4s %7s %10s %9s %9s | %10s %8s %7s | %10s %8s %7s%n",
                    "shape", "dtype", "ckpt", "params", "weights", "base", "loaded", "step_peak", "step_s", "step_x",
                    "fish_peak", "fish_s", "fish_x");
        }
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-13s %-5s %-4s %6.0fM %7d MiB %5d MiB %5d MiB | %s | %s%n", r.shape(),
                    r.dtype(), r.checkpointing() ? "on" : "off", r.params() / 1e6, r.weightBytes() >> 20, r.base() >> 20, r.loaded() >> 20,
                    phase(r, r.step()), phase(r, r.fisher()));
        }
    }

    /** Peak MiB, seconds, and (peak − memory before the model) / weight bytes. */
    private static String phase(Row r, Phase p) {
        if (p == null) {
            return String.format(Locale.ROOT, "%10s %8s %7s", "-", "-", "-");
        }
        return String.format(Locale.ROOT, "%6d MiB %8.2f %6.2fx", p.peak() >> 20, p.seconds(),
                (double) (p.peak() - r.base()) / r.weightBytes());
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + a + "'; options: --device,"
                        + " --dtype, --shapes, --batch, --seq, --rank, --phases, --checkpointing");
            }
            String name = a.substring(2);
            if (!Arrays.asList("device", "dtype", "shapes", "batch", "seq", "rank", "phases", "checkpointing")
                    .contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name + "; options: --device, --dtype,"
                        + " --shapes, --batch, --seq, --rank, --phases, --checkpointing");
            }
            out.put(name, args[++i]);
        }
        return out;
    }

    private static boolean onOff(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new IllegalArgumentException("--checkpointing takes off, on or off,on, not '" + v + "'");
        };
    }

    private static List<String> list(String csv) {
        List<String> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }
}
