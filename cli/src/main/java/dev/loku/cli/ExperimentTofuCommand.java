package dev.loku.cli;

import ai.djl.Device;
import dev.loku.cli.TofuExperimentResults.Base;
import dev.loku.cli.TofuExperimentResults.Point;
import dev.loku.cli.TofuExperimentResults.Run;
import dev.loku.cli.TofuExperimentResults.Setup;
import dev.loku.core.data.InvalidDataException;
import dev.loku.core.data.QaTemplate;
import dev.loku.core.engine.FinetuneSettings;
import dev.loku.core.engine.UnlearnSettings;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.model.Devices;
import dev.loku.core.model.ModelLoadException;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.tofu.TofuData;
import dev.loku.core.tofu.TofuEvaluator;
import dev.loku.core.tofu.TofuItem;
import dev.loku.core.tofu.TofuSplit;
import dev.loku.core.tofu.TofuSplitScores;
import dev.loku.runtime.job.JobWorkDir;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku experiment tofu}: the paper's TOFU benchmark (docs/method.md §3.1, §5.2) at this machine's scale.
 * stories260K is fine-tuned on forget10 + retain (the "full" model) and on retain alone (the "retain" model the KS
 * test compares with); then each of forget01, forget05 and forget10 is unlearned from the full model with GA, GD, NPO,
 * IDK and IHL, each with plain LoRA and with FILA, on TOFU's scheduled recipe (a fixed number of epochs, AdamW,
 * warm-up then linear decay), and the TOFU metrics are measured after every epoch. The page, chart and raw numbers go
 * to {@code docs/experiments/tofu.{md,png,json}}.
 *
 * <p>The shipped data lacks TOFU's paraphrased and perturbed answers for forget and retain, so their truth ratio uses
 * the substitute of {@link TofuData} (other answers about the same author), and the KS test on it is reported as
 * "forget truth-ratio KS p", not as forget quality. Progress goes to stderr as {@code experiment: key=value} lines.
 */
@Command(name = "tofu", description = "Fine-tune stories260K on TOFU (full and retain models), unlearn forget01/05/10"
        + " with GA, GD, NPO, IDK and IHL, each with LoRA and FILA, measure the TOFU metrics per epoch, and write a"
        + " table, a chart and the raw numbers.")
final class ExperimentTofuCommand implements Runnable {

    static final List<UnlearningMethod> METHODS = List.of(UnlearningMethod.GA, UnlearningMethod.GD,
            UnlearningMethod.NPO, UnlearningMethod.IDK, UnlearningMethod.IHL);

    @Spec
    CommandSpec spec;

    @Option(names = "--splits", split = ",", defaultValue = "1,5,10",
            description = "Forget splits (percent of TOFU), comma-separated. Default: ${DEFAULT-VALUE}.")
    List<Integer> splits;

    @Option(names = "--methods", split = ",", defaultValue = "ga,gd,npo,idk,ihl",
            description = "Unlearning methods, comma-separated. Default: ${DEFAULT-VALUE}.")
    List<String> methods;

    @Option(names = "--finetune-epochs", defaultValue = "8",
            description = "Fine-tuning epochs of the full and the retain model. Default: ${DEFAULT-VALUE}.")
    int finetuneEpochs;

    @Option(names = "--finetune-lr", defaultValue = "3e-3",
            description = "Fine-tuning peak learning rate. Default: ${DEFAULT-VALUE}.")
    double finetuneLr;

    @Option(names = "--finetune-batch", defaultValue = "16", description = "Fine-tuning batch size. Default: ${DEFAULT-VALUE}.")
    int finetuneBatch;

    @Option(names = "--epochs", defaultValue = "3",
            description = "Unlearning epochs of every run (TOFU runs 5; see the page for the sizing). Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Unlearning peak learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--rank", defaultValue = "8", description = "LoRA rank (alpha = 2r). Default: ${DEFAULT-VALUE}.")
    int rank;

    @Option(names = "--batch", defaultValue = "8",
            description = "Forget records per optimiser step (TOFU takes 32 of 400, 12 steps an epoch; 8 of 80 keeps"
                    + " about as many steps). Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--qa-per-author", defaultValue = "4",
            description = "Questions per fictitious author that the models are trained on and the forget splits"
                    + " hold (TOFU has 20; every one of them is scored). Default: ${DEFAULT-VALUE}.")
    int qaPerAuthor;

    @Option(names = "--eval-per-author", defaultValue = "2",
            description = "Retain questions per author scored for model utility. Default: ${DEFAULT-VALUE}.")
    int evalPerAuthor;

    @Option(names = "--real-world-items", defaultValue = "30",
            description = "Real-authors and world-facts questions scored for model utility (of 100 and 117)."
                    + " Default: ${DEFAULT-VALUE}.")
    int realWorldItems;

    @Option(names = "--max-new-tokens", defaultValue = "32",
            description = "Longest greedy answer generated for ROUGE-L. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--seed", defaultValue = "1", description = "Seeds fine-tuning and unlearning. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Where tofu.md/.png/.json go. Default: docs/experiments of the project.")
    Path out;

    @Option(names = "--model", paramLabel = "PATH", description = "Starting checkpoint. Default: models/stories260K.")
    Path model;

    @Option(names = "--data", paramLabel = "DIR", description = "The TOFU data folder. Default: data/tofu.")
    Path data;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Keep the data and models here instead of a temporary folder that is deleted.")
    Path workDir;

    @Override
    public void run() {
        Path root = ExperimentMemorisationCommand.projectRoot();
        Path modelPath = model != null ? model : root.resolve("models/stories260K");
        Path dataDir = data != null ? data : root.resolve("data/tofu");
        Path outDir = out != null ? out : root.resolve("docs/experiments");
        List<UnlearningMethod> chosen;
        Device dev;
        try {
            chosen = methods.stream().map(String::trim).distinct().map(UnlearningMethod::byId).toList();
            dev = Devices.parse(device);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
        if (epochs < 1 || rank < 1 || batch < 1 || evalPerAuthor < 1 || maxNewTokens < 1 || finetuneEpochs < 1
                || realWorldItems < 1 || qaPerAuthor < 1 || qaPerAuthor > TofuData.QA_PER_AUTHOR
                || evalPerAuthor > qaPerAuthor) {
            throw new UserException("--epochs, --rank, --batch, --max-new-tokens, --finetune-epochs and"
                    + " --real-world-items must be at least 1, and 1 <= --eval-per-author <= --qa-per-author <= "
                    + TofuData.QA_PER_AUTHOR);
        }
        for (int s : splits) {
            if (s != 1 && s != 5 && s != 10) {
                throw new UserException("--splits takes 1, 5 and 10 (TOFU's forget01, forget05, forget10), got " + s);
            }
        }
        long start = System.nanoTime();
        boolean temporary = workDir == null;
        Path work = null;
        try {
            TofuData tofu = TofuData.load(dataDir);
            List<String> refusals = Files.readAllLines(dataDir.resolve("idontknow.jsonl"), StandardCharsets.UTF_8)
                    .stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
            work = temporary ? Files.createTempDirectory("loku-tofu-") : Files.createDirectories(workDir);
            Path full = work.resolve("full.jsonl");
            Path retain = work.resolve("retain.jsonl");
            TofuSplit retainAll = tofu.retain(qaPerAuthor);
            List<TofuItem> fullItems = new ArrayList<>(tofu.forget(10, qaPerAuthor).items());
            fullItems.addAll(retainAll.items());
            writeQa(full, fullItems);
            writeQa(retain, retainAll.items());

            UnlearningEngine engine = new UnlearningEngine(dev);
            FinetuneSettings ft = new FinetuneSettings(finetuneEpochs, finetuneLr, finetuneBatch, seed);
            long t = System.nanoTime();
            Path fullModel = engine.finetune(modelPath, full, ft, work.resolve("full-model"),
                    e -> progress("event=finetune model=full epoch=%d/%d", e, finetuneEpochs)).modelDir();
            double fullSeconds = seconds(t);
            t = System.nanoTime();
            Path retainModel = engine.finetune(modelPath, retain, ft, work.resolve("retain-model"),
                    e -> progress("event=finetune model=retain epoch=%d/%d", e, finetuneEpochs)).modelDir();
            double retainSeconds = seconds(t);
            progress("event=finetuned full_seconds=%.1f retain_seconds=%.1f", fullSeconds, retainSeconds);

            TofuEvaluator evaluator = new TofuEvaluator(QaTemplate.PLAIN, TofuEvaluator.DEFAULT_MAX_LENGTH,
                    maxNewTokens, TofuEvaluator.DEFAULT_BATCH_SIZE, TofuEvaluator.DEFAULT_GENERATION_BATCH);
            List<TofuSplit> utility = List.of(tofu.retain(evalPerAuthor), tofu.realAuthors().first(realWorldItems),
                    tofu.worldFacts().first(realWorldItems));
            List<TofuSplitScores> fullUtility = engine.evaluateTofu(fullModel, utility, evaluator, quiet());
            List<TofuSplitScores> retainUtility = engine.evaluateTofu(retainModel, utility, evaluator, quiet());

            List<Base> bases = new ArrayList<>();
            List<Run> runs = new ArrayList<>();
            for (int percent : splits) {
                TofuSplit forgetEval = tofu.forget(percent, qaPerAuthor);
                Path forgetFile = work.resolve(forgetEval.name() + ".jsonl");
                writeQa(forgetFile, forgetEval.items());
                t = System.nanoTime();
                TofuSplitScores reference = engine.evaluateTofu(retainModel, List.of(forgetEval), evaluator, quiet())
                        .get(0);
                TofuSplitScores fullForget = engine.evaluateTofu(fullModel, List.of(forgetEval), evaluator, quiet())
                        .get(0);
                Point fullPoint = Point.of(0, Double.NaN, fullForget, reference, fullUtility, seconds(t));
                Point retainPoint = Point.of(0, Double.NaN, reference, reference, retainUtility, 0);
                bases.add(new Base(forgetEval.name(), fullPoint, retainPoint));
                progress("event=base split=%s full_ks_p=%.3g full_utility=%.4f retain_utility=%.4f",
                        forgetEval.name(), fullPoint.forgetKsP(), fullPoint.modelUtility(), retainPoint.modelUtility());
                Path importance = engine.estimateImportance(fullModel, forgetFile, retain,
                        UnlearnSettings.ALL_TARGETS, seed, work.resolve(forgetEval.name() + "-importance.safetensors"))
                        .file();
                for (UnlearningMethod method : chosen) {
                    for (boolean fila : new boolean[] {false, true}) {
                        runs.add(unlearn(engine, fullModel, forgetFile, retain, fila ? importance : null, method, fila,
                                refusals, forgetEval, reference, utility, evaluator, fullPoint));
                    }
                }
            }
            Setup setup = new Setup(ExperimentMemorisationCommand.display(root, modelPath), finetuneEpochs,
                    finetuneLr, finetuneBatch, fullSeconds, retainSeconds, epochs, lr, rank, batch, qaPerAuthor,
                    evalPerAuthor, realWorldItems, maxNewTokens, seed, dev.isGpu() ? "gpu" : "cpu", Runtime.getRuntime().availableProcessors());
            TofuExperimentResults results = new TofuExperimentResults(setup, bases, runs, seconds(start));
            Files.createDirectories(outDir);
            TofuExperimentPage.writeChart(results, outDir.resolve("tofu.png"));
            Files.writeString(outDir.resolve("tofu.json"), results.toJson(), StandardCharsets.UTF_8);
            Files.writeString(outDir.resolve("tofu.md"),
                    TofuExperimentPage.document(results, reproduceCommand(), "tofu.png", "tofu.json"),
                    StandardCharsets.UTF_8);
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.print(TofuExperimentPage.table(results, results.runsOf(TofuData.forgetName(
                    splits.stream().mapToInt(Integer::intValue).max().orElse(10)))));
            stdout.printf(Locale.ROOT, "wrote %s, %s and %s (%.0f s)%n", outDir.resolve("tofu.md"),
                    outDir.resolve("tofu.png"), outDir.resolve("tofu.json"), results.totalSeconds());
            stdout.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("the experiment was interrupted", e);
        } catch (InvalidDataException | ModelLoadException | IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        } catch (IOException | UncheckedIOException e) {
            throw new UserException("could not read or write the experiment's files: " + e.getMessage(), e);
        } finally {
            if (temporary && work != null) {
                try {
                    JobWorkDir.deleteRecursively(work);
                } catch (IOException e) {
                    // A leftover temporary folder is harmless; the results are already written.
                }
            }
        }
    }

    private Run unlearn(UnlearningEngine engine, Path fullModel, Path forgetFile, Path retain, Path importance,
                        UnlearningMethod method, boolean fila, List<String> refusals, TofuSplit forgetEval,
                        TofuSplitScores reference, List<TofuSplit> utility, TofuEvaluator evaluator, Point fullPoint)
            throws IOException, InterruptedException {
        UnlearnSettings settings = UnlearnSettings.loku().withMethod(method).withLoraRank(rank).withFila(fila)
                .withLearningRate(lr).withBatchSize(batch).withSeed(seed).withRefusals(refusals);
        List<Point> points = new ArrayList<>();
        points.add(fullPoint);
        String label = method.id() + (fila ? "-fila" : "-lora");
        long t = System.nanoTime();
        long[] epochStart = {System.nanoTime()};
        engine.unlearnScheduled(fullModel, forgetFile, retain, importance, settings, epochs, (epoch, loss, m) -> {
            if (epoch == 0) {
                // The full model's numbers are epoch 0 of every run (LoRA starts from B = 0; FILA's residual base
                // leaves the function unchanged up to rounding), so the run does not score them again.
                epochStart[0] = System.nanoTime();
                return;
            }
            TofuSplitScores forget = evaluator.score(m, forgetEval, TofuEvaluator.Progress.none());
            List<TofuSplitScores> u = new ArrayList<>();
            for (TofuSplit s : utility) {
                u.add(evaluator.score(m, s, TofuEvaluator.Progress.none()));
            }
            Point p = Point.of(epoch, loss, forget, reference, u, seconds(epochStart[0]));
            points.add(p);
            progress("event=epoch split=%s run=%s epoch=%d loss=%.4f forget_ks_p=%.3g model_utility=%.4f"
                    + " seconds=%.1f", forgetEval.name(), label, epoch, loss, p.forgetKsP(), p.modelUtility(),
                    p.seconds());
            epochStart[0] = System.nanoTime();
        });
        Run run = new Run(forgetEval.name(), method, fila, points, seconds(t));
        progress("event=run_done split=%s run=%s seconds=%.1f", forgetEval.name(), label, run.seconds());
        return run;
    }

    /** The command line that reproduces this run, every option that shapes the numbers spelled out. */
    String reproduceCommand() {
        return String.format(Locale.ROOT, "./loku experiment tofu --splits %s --methods %s --finetune-epochs %d"
                        + " --finetune-lr %s --finetune-batch %d --epochs %d --lr %s --rank %d --batch %d"
                        + " --qa-per-author %d --eval-per-author %d --real-world-items %d --max-new-tokens %d --seed %d",
                String.join(",", splits.stream().map(String::valueOf).toList()), String.join(",", methods),
                finetuneEpochs, finetuneLr, finetuneBatch, epochs, lr, rank, batch, qaPerAuthor, evalPerAuthor,
                realWorldItems, maxNewTokens, seed)
                + (model != null ? " --model " + model : "") + (data != null ? " --data " + data : "");
    }

    private static void writeQa(Path file, List<TofuItem> items) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (TofuItem i : items) {
                w.write(CliJson.write(CliJson.MAPPER.createObjectNode().put("question", i.question())
                        .put("answer", i.answer())));
                w.write('\n');
            }
        }
    }

    private static TofuEvaluator.Progress quiet() {
        return TofuEvaluator.Progress.none();
    }

    private void progress(String format, Object... args) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("experiment: " + String.format(Locale.ROOT, format, args));
        err.flush();
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
