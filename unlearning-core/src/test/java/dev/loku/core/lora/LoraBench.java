package dev.loku.core.lora;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.JsonlRecords;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.fila.TruncatedSvd;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.fisher.FisherPass;
import dev.loku.core.model.LlamaConfig;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.LlamaModel;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.train.Gradients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Timings of the LoRA/FILA pieces, printed, never asserted (not a unit test): Fisher pass, FILA attach (SVD
 * choice), step-0 drift, forward/backward with adapters, PEFT save/load.
 *
 * <pre>
 *   java -cp ... dev.loku.core.lora.LoraBench MODEL RANK EXAMPLES SEQ_LEN EXACT_SVD_UP_TO
 * </pre>
 * MODEL is a model path or {@code preset:NAME} ({@link LlamaConfig#preset}, random weights, random tokens).
 */
public final class LoraBench {

    public static void main(String[] args) throws Exception {
        String modelArg = args[0];
        int rank = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        int seqLen = Integer.parseInt(args[3]);
        int exactUpTo = Integer.parseInt(args[4]);
        long t0 = System.nanoTime();
        CausalLm model = modelArg.startsWith("preset:")
                ? LlamaModel.randomInit(LlamaConfig.preset(modelArg.substring(7)), null, 1, Device.cpu())
                : ModelLoader.load(Path.of(modelArg), Device.cpu());
        print("load", t0, String.format(Locale.ROOT, "params=%d", model.parameterCount()));
        List<EncodedExample> examples = examples(model, 2 * n, seqLen);
        List<EncodedExample> forget = examples.subList(0, n);
        List<EncodedExample> retain = examples.subList(n, 2 * n);
        long tokens = examples.stream().mapToLong(EncodedExample::labelCount).sum();

        t0 = System.nanoTime();
        FisherImportance importance = FisherPass.run(model, forget, retain, null, 4, Map.of());
        print("fisher_pass", t0, "label_tokens=" + tokens);

        TokenBatch batch = ModelBatches.of(forget.subList(0, Math.min(4, n)), 0);
        float[] before = Stories.logits(model, batch);
        t0 = System.nanoTime();
        LoraModel lora = LoraModel.attachFila(model, LoraConfig.defaults(rank), importance,
                TruncatedSvd.auto(exactUpTo, 42));
        print("fila_attach", t0, "projections=" + lora.projections().size() + " exact_up_to=" + exactUpTo);
        float[] after = Stories.logits(model, batch);
        System.out.printf(Locale.ROOT, "step0_drift max_abs=%.3g max_logit=%.3g relative=%.3g%n",
                Stories.maxAbsDiff(before, after), Stories.maxAbs(before),
                Stories.maxAbsDiff(before, after) / Stories.maxAbs(before));
        importance.close();

        for (int i = 0; i < 2; i++) {
            Stories.logits(model, batch); // warm-up
        }
        t0 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            Stories.logits(model, batch);
        }
        print("forward_x5_lora", t0, "");
        t0 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            try (NDManager m = model.manager().newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.meanNll(m, batch));
            }
            Gradients.zero(lora.trainableParameters().values());
        }
        print("train_step_x5_lora", t0, "");
        lora.merge();
        t0 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            Stories.logits(model, batch);
        }
        print("forward_x5_merged", t0, "");
        lora.unmerge();

        Path dir = Files.createTempDirectory("lora-bench");
        t0 = System.nanoTime();
        lora.savePeft(dir.resolve("adapter"), "bench");
        print("save_peft", t0, "bytes=" + Files.size(dir.resolve("adapter").resolve("adapter_model.safetensors")));
        lora.close();
        t0 = System.nanoTime();
        try (LoraModel back = LoraModel.loadPeft(model, dir.resolve("adapter"))) {
            print("load_peft", t0, "trainable=" + back.trainableParameters().values().stream()
                    .mapToLong(a -> a.size()).sum());
        }
        model.close();
    }

    private static List<EncodedExample> examples(CausalLm model, int count, int seqLen) throws Exception {
        if (model.tokenizer() != null) {
            var records = JsonlRecords.read(ProjectFiles.data("stories/stories.jsonl"));
            List<EncodedExample> out = new ArrayList<>();
            ExampleEncoder enc = new ExampleEncoder(model.tokenizer(), seqLen);
            for (int i = 0; i < count; i++) {
                out.add(enc.encode(records.get(i % records.size())));
            }
            return out;
        }
        return dev.loku.core.bench.MemoryBench.examples(new Random(3), model.config().vocabSize(), count, seqLen);
    }

    private static void print(String what, long t0, String extra) {
        System.out.printf(Locale.ROOT, "%-20s %8.3f s %s%n", what, (System.nanoTime() - t0) / 1e9, extra);
    }
}
