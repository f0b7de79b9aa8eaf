package dev.loku.core.engine;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.data.SyntheticPersons;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The measurement behind {@link UnlearnSettings#loku()}'s defaults (docs/engine.md), not a unit test: stories260K
 * fine-tuned on synthetic person records until it memorises them, then unlearning of some of them.
 *
 * Arguments after the main class (classpath: unlearning-core's classes, test classes and dependencies):
 * <pre>
 *   WORKDIR finetune PERSONS EPOCHS LR
 *   WORKDIR unlearn FORGET METHOD RANK FILA LR MAX_EPOCHS [FROM [SEED]]   forget = records FROM..FROM+FORGET-1
 *   WORKDIR time GENERATION_BATCH                                          evaluator timings
 * </pre>
 */
public final class EngineTuningBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        Files.createDirectories(work);
        UnlearningEngine engine = new UnlearningEngine(Device.cpu());
        if (args[1].equals("time")) {
            try (dev.loku.core.model.CausalLm m = dev.loku.core.model.ModelLoader.load(work.resolve("finetuned"),
                    Device.cpu())) {
                var forget = RecordFiles.read(m, work.resolve("forget.jsonl"));
                var retain = RecordFiles.read(m, work.resolve("retain.jsonl"));
                RecordSetEvaluator ev = new RecordSetEvaluator(32, Integer.parseInt(args[2]));
                for (int i = 0; i < 3; i++) {
                    long t0 = System.nanoTime();
                    ev.score(m, retain, false);
                    long t1 = System.nanoTime();
                    ev.score(m, forget, false);
                    long t2 = System.nanoTime();
                    double el = ev.extractionLikelihood(m, forget);
                    long t3 = System.nanoTime();
                    System.out.printf(Locale.ROOT, "retain MA %.2fs forget MA %.2fs forget EL %.2fs (%.4f)%n",
                            (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, el);
                }
            }
            return;
        }
        if (args[1].equals("finetune")) {
            int persons = Integer.parseInt(args[2]);
            writePersons(work.resolve("train.jsonl"), SyntheticPersons.generate(7, persons));
            // Unseen: people drawn with another seed, never trained on.
            writePersons(work.resolve("unseen.jsonl"), SyntheticPersons.generate(1234, 20));
            long t0 = System.nanoTime();
            FinetuneResult r = engine.finetune(Path.of("models/stories260K"), work.resolve("train.jsonl"),
                    new FinetuneSettings(Integer.parseInt(args[3]), Double.parseDouble(args[4]), 16, 1),
                    work.resolve("finetuned"), e -> {
                        if (e % 10 == 0) {
                            System.out.printf(Locale.ROOT, "epoch %d %.1fs%n", e, (System.nanoTime() - t0) / 1e9);
                        }
                    });
            System.out.printf(Locale.ROOT, "final loss %.4f train MA %.4f in %.1fs%n", r.finalLoss(), r.trainMa(),
                    (System.nanoTime() - t0) / 1e9);
        } else {
            int forget = Integer.parseInt(args[2]);
            List<String> lines = Files.readAllLines(work.resolve("train.jsonl"));
            int from = args.length > 8 ? Integer.parseInt(args[8]) : 0;
            Files.write(work.resolve("forget.jsonl"), lines.subList(from, from + forget));
            List<String> rest = new ArrayList<>(lines.subList(0, from));
            rest.addAll(lines.subList(from + forget, lines.size()));
            Files.write(work.resolve("retain.jsonl"), rest);
            UnlearnSettings s = UnlearnSettings.loku().withMethod(UnlearningMethod.byId(args[3])).withLoraRank(Integer.parseInt(args[4]))
                    .withFila(Boolean.parseBoolean(args[5])).withLearningRate(Double.parseDouble(args[6]))
                    .withMaxEpochs(Integer.parseInt(args[7])).withSeed(args.length > 9 ? Long.parseLong(args[9]) : 42);
            UnlearnResult r = engine.unlearn(work.resolve("finetuned"), new RecordSets(work.resolve("forget.jsonl"),
                    work.resolve("retain.jsonl"), work.resolve("unseen.jsonl")), null, s, work.resolve("out"),
                    e -> System.out.printf(Locale.ROOT,
                            "epoch %2d loss %8.4f forget MA %.4f EL10 %.4f retain MA %.4f NLL %.4f %.1fs%n",
                            e.epoch(), e.loss(), e.forgetMa(), e.forgetEl10(), e.retainMa(), e.retainNll(),
                            e.seconds()));
            System.out.printf(Locale.ROOT, "thresholds MA %.4f EL10 %.4f stopped %d reached %s%n",
                    r.report().thresholdMa(), r.report().thresholdEl10(), r.report().stoppedAtEpoch(),
                    r.report().reachedThreshold());
        }
    }

    static void writePersons(Path file, List<SyntheticPersons.Person> persons) throws IOException {
        List<String> lines = new ArrayList<>();
        for (SyntheticPersons.Person p : persons) {
            lines.add(JSON.writeValueAsString(Map.of("text", p.text())));
        }
        Files.write(file, lines);
    }
}
