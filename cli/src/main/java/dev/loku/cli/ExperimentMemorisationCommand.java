package dev.loku.cli;

import ai.djl.Device;
import dev.loku.cli.ExperimentResults.BaseScores;
import dev.loku.cli.ExperimentResults.EpochPoint;
import dev.loku.cli.ExperimentResults.MethodRun;
import dev.loku.cli.ExperimentResults.Setup;
import dev.loku.core.data.InvalidDataException;
import dev.loku.core.engine.EpochRecord;
import dev.loku.core.engine.FinetuneResult;
import dev.loku.core.engine.FinetuneSettings;
import dev.loku.core.engine.RecordSets;
import dev.loku.core.engine.RecordSetScores;
import dev.loku.core.engine.UnlearnResult;
import dev.loku.core.engine.UnlearnSettings;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.model.Devices;
import dev.loku.core.model.ModelLoadException;
import dev.loku.runtime.job.JobWorkDir;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku experiment memorisation}: the paper's extraction-benchmark claim (docs/method.md §3.2, §6) at this
 * machine's scale. stories260K is fully fine-tuned on seeded synthetic personal records until it reproduces them;
 * then 10% of them are forgotten with GA on the full weights, GA+LoRA, GD+LoRA, IHL+LoRA and IHL+FILA at the same
 * rank, alpha, epoch budget and seed, each run stopping at the unseen-data thresholds (Jang et al.'s stop rule). The
 * table, the chart and the raw numbers go to {@code docs/experiments/memorisation.{md,png,json}}.
 *
 * <p>Progress goes to stderr as {@code experiment: key=value} lines that carry numbers only, never record text.
 */
@Command(name = "memorisation", description = "Fine-tune stories260K on synthetic personal records, forget a share"
        + " of them with GA, GA+LoRA, GD+LoRA, IHL+LoRA and IHL+FILA, and write a table, a chart and the raw numbers.")
final class ExperimentMemorisationCommand implements Runnable {

    /** The five methods, in the order they run and are shown. */
    enum Method {
        GA_FULL("ga-full", "GA (full)", UnlearningMethod.GA, false, false),
        GA_LORA("ga-lora", "GA+LoRA", UnlearningMethod.GA, true, false),
        GD_LORA("gd-lora", "GD+LoRA", UnlearningMethod.GD, true, false),
        IHL_LORA("ihl-lora", "IHL+LoRA", UnlearningMethod.IHL, true, false),
        IHL_FILA("ihl-fila", "IHL+FILA", UnlearningMethod.IHL, true, true);

        final String key;
        final String label;
        final UnlearningMethod objective;
        final boolean lora;
        final boolean fila;

        Method(String key, String label, UnlearningMethod objective, boolean lora, boolean fila) {
            this.key = key;
            this.label = label;
            this.objective = objective;
            this.lora = lora;
            this.fila = fila;
        }

        static Method byKey(String key) {
            for (Method m : values()) {
                if (m.key.equals(key)) {
                    return m;
                }
            }
            throw new UserException("unknown method '" + key + "'; use any of "
                    + String.join(", ", Stream.of(values()).map(m -> m.key).toList()));
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--persons", defaultValue = "100", description = "People the model is taught. Default: ${DEFAULT-VALUE}.")
    int persons;

    @Option(names = "--forget-fraction", defaultValue = "0.1",
            description = "Share of the taught people to forget. Default: ${DEFAULT-VALUE}.")
    double forgetFraction;

    @Option(names = "--unseen", defaultValue = "20",
            description = "Never-taught people the thresholds are measured on. Default: ${DEFAULT-VALUE}.")
    int unseen;

    @Option(names = "--seeds", split = ",", defaultValue = "1,2,3",
            description = "One whole experiment per seed (the people, the forget split, fine-tuning and unlearning),"
                    + " reported as mean and spread. Default: ${DEFAULT-VALUE}.")
    List<Long> seeds;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Where memorisation.md/.png/.json go. Default: docs/experiments of the project.")
    Path out;

    @Option(names = "--model", paramLabel = "PATH",
            description = "Starting checkpoint. Default: the project's models/stories260K.")
    Path model;

    @Option(names = "--stories", paramLabel = "FILE",
            description = "JSONL texts for the language-ability NLL. Default: the project's data/stories/stories.jsonl.")
    Path stories;

    @Option(names = "--replay", defaultValue = "60",
            description = "Replay stories (the model's own sampled continuations of fixed openings) mixed into"
                    + " fine-tuning. Default: ${DEFAULT-VALUE}.")
    int replay;

    @Option(names = "--replay-tokens", defaultValue = "120",
            description = "Longest replay continuation in tokens. Default: ${DEFAULT-VALUE}.")
    int replayTokens;

    @Option(names = "--anchor-weight", defaultValue = "3",
            description = "Weight of the fine-tune's anchor term, KL(shipped model || model) on the replay stories"
                    + " (0: the replay stories are trained with the plain NLL instead). Default: ${DEFAULT-VALUE}.")
    double anchorWeight;

    @Option(names = "--finetune-epochs", defaultValue = "30",
            description = "Fine-tuning epochs on the taught people. Default: ${DEFAULT-VALUE}.")
    int finetuneEpochs;

    @Option(names = "--finetune-lr", defaultValue = "3e-3",
            description = "Fine-tuning peak learning rate (warm-up one epoch, then linear decay). Default: ${DEFAULT-VALUE}.")
    double finetuneLr;

    @Option(names = "--finetune-batch", defaultValue = "16",
            description = "Fine-tuning batch size. Default: ${DEFAULT-VALUE}.")
    int finetuneBatch;

    @Option(names = "--rank", description = "LoRA rank of every LoRA run. Default: the engine's LoKU default.")
    Integer rank;

    @Option(names = "--lr", description = "Learning rate of the LoRA runs. Default: the engine's LoKU default.")
    Double lr;

    @Option(names = "--full-lr", description = "Learning rate of the full-weight GA run. Default: the same as --lr.")
    Double fullLr;

    @Option(names = "--max-epochs", defaultValue = "12", description = "Epoch budget of every run (smaller than the"
            + " engine's default so that five runs fit in 15 minutes on 2 cores). Default: ${DEFAULT-VALUE}.")
    int maxEpochs;

    @Option(names = "--methods", split = ",", paramLabel = "M",
            defaultValue = "ga-full,ga-lora,gd-lora,ihl-lora,ihl-fila",
            description = "Which methods to run, comma-separated. Default: ${DEFAULT-VALUE}.")
    List<String> methods;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Keep the data, models and adapters here instead of a temporary folder that is deleted.")
    Path workDir;

    @Override
    public void run() {
        Path root = projectRoot();
        Path modelPath = model != null ? model : root.resolve("models/stories260K");
        Path storiesPath = stories != null ? stories : root.resolve("data/stories/stories.jsonl");
        Path outDir = out != null ? out : root.resolve("docs/experiments");
        List<Method> chosen = methods.stream().map(String::trim).distinct().map(Method::byKey)
                .sorted(Comparator.naturalOrder()).toList();
        UnlearnSettings defaults = UnlearnSettings.loku();
        int r = rank != null ? rank : defaults.loraRank();
        double loraLr = lr != null ? lr : defaults.learningRate();
        double fullWeightsLr = fullLr != null ? fullLr : loraLr;
        int budget = maxEpochs;
        if (replay < 0 || replayTokens < 1) {
            throw new UserException("--replay must be at least 0 and --replay-tokens at least 1");
        }
        if (!(anchorWeight >= 0) || Double.isInfinite(anchorWeight)) {
            throw new UserException("--anchor-weight must be 0 or a positive number");
        }
        if (r < 1) {
            throw new UserException("--rank must be at least 1 (the full-weight run is ga-full)");
        }
        Device dev;
        try {
            dev = Devices.parse(device);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
        if (!Files.isRegularFile(storiesPath)) {
            throw new UserException("no story texts at " + storiesPath + "; pass --stories FILE (JSONL with \"text\")");
        }

        if (seeds.isEmpty()) {
            throw new UserException("--seeds needs at least one seed");
        }
        long start = System.nanoTime();
        List<ExperimentResults> perSeed = new ArrayList<>();
        for (long seed : seeds) {
            perSeed.add(runSeed(seed, root, modelPath, storiesPath, chosen, dev, defaults, r, loraLr, fullWeightsLr,
                    budget));
        }
        try {
            MemorisationSeeds all = new MemorisationSeeds(perSeed, seconds(start));
            write(all, outDir);
            progress("event=done seeds=%d seconds=%.1f out=%s", perSeed.size(), all.totalSeconds(), outDir);
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.print(ExperimentTable.summaryTable(all));
            stdout.printf(Locale.ROOT, "wrote %s, %s and %s (%.0f s)%n", outDir.resolve("memorisation.md"),
                    outDir.resolve("memorisation.png"), outDir.resolve("memorisation.json"), all.totalSeconds());
            stdout.flush();
        } catch (IOException | UncheckedIOException e) {
            throw new UserException("could not write the experiment's files: " + e.getMessage(), e);
        }
    }

    /** One seed's whole experiment: data, replay, fine-tune, scores before, and every method's run. */
    private ExperimentResults runSeed(long seed, Path root, Path modelPath, Path storiesPath, List<Method> chosen,
                                      Device dev, UnlearnSettings defaults, int r, double loraLr,
                                      double fullWeightsLr, int budget) {
        ExperimentData data;
        try {
            data = ExperimentData.split(persons, forgetFraction, unseen, seed);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
        long start = System.nanoTime();
        boolean temporary = workDir == null;
        Path work = null;
        try {
            work = temporary ? Files.createTempDirectory("loku-experiment-")
                    : Files.createDirectories(workDir.resolve("seed-" + seed));
            Path dataDir = work.resolve("data");
            List<String> replayStories = ExperimentReplay.stories(modelPath, dev, replay, replayTokens, seed);
            boolean anchored = anchorWeight > 0 && !replayStories.isEmpty();
            data.writeJsonl(dataDir, replayStories, !anchored);
            Path finetuneData = dataDir.resolve(ExperimentData.FINETUNE);
            Path forget = dataDir.resolve(ExperimentData.FORGET);
            Path retain = dataDir.resolve(ExperimentData.RETAIN);
            Path unseenFile = dataDir.resolve(ExperimentData.UNSEEN);
            progress("event=data persons=%d forget=%d retain=%d unseen=%d replay=%d seed=%d", persons,
                    data.forget().size(), data.retain().size(), data.unseen().size(), replayStories.size(), seed);

            UnlearningEngine engine = new UnlearningEngine(dev);
            ExperimentScoring scoring = new ExperimentScoring(dev);

            List<RecordSetScores> shipped = scoring.score(modelPath, List.of(forget, storiesPath),
                    List.of(false, false));
            progress("event=shipped forget_ma=%.4f story_nll=%.4f", shipped.get(0).ma(), shipped.get(1).nll());

            long t = System.nanoTime();
            FinetuneResult ft = engine.finetune(modelPath, finetuneData,
                    anchored ? dataDir.resolve(ExperimentData.REPLAY) : null,
                    new FinetuneSettings(finetuneEpochs, finetuneLr, finetuneBatch, seed, anchored ? anchorWeight : 0),
                    work.resolve("finetuned"),
                    e -> progress("event=finetune epoch=%d/%d", e, finetuneEpochs));
            double finetuneSeconds = seconds(t);
            progress("event=finetuned loss=%.4f train_ma=%.4f seconds=%.1f", ft.finalLoss(), ft.trainMa(),
                    finetuneSeconds);

            List<RecordSetScores> base = scoring.score(ft.modelDir(), List.of(forget, retain, unseenFile, storiesPath),
                    List.of(true, false, true, false));
            BaseScores before = new BaseScores(shipped.get(0).ma(), shipped.get(1).nll(), base.get(0).ma(),
                    base.get(0).el10(), base.get(1).ma(), base.get(2).ma(), base.get(2).el10(), base.get(3).nll());
            progress("event=before forget_ma=%.4f forget_el10=%.4f retain_ma=%.4f unseen_ma=%.4f unseen_el10=%.4f"
                            + " story_nll=%.4f", before.forgetMa(), before.forgetEl10(), before.retainMa(),
                    before.unseenMa(), before.unseenEl10(), before.storyNll());

            Path importance = null;
            if (chosen.stream().anyMatch(m -> m.fila)) {
                t = System.nanoTime();
                importance = engine.estimateImportance(ft.modelDir(), forget, retain, defaults.targets(), seed,
                        work.resolve("importance.safetensors")).file();
                progress("event=importance seconds=%.1f", seconds(t));
            }

            List<MethodRun> runs = new ArrayList<>();
            double thresholdMa = before.unseenMa();
            double thresholdEl = before.unseenEl10();
            for (Method m : chosen) {
                UnlearnSettings settings = settings(m, defaults, r, loraLr, fullWeightsLr, budget, seed);
                t = System.nanoTime();
                UnlearnResult result = engine.unlearn(ft.modelDir(), new RecordSets(forget, retain, unseenFile),
                        m.fila ? importance : null, settings, work.resolve("runs").resolve(m.key),
                        e -> progress("event=epoch method=%s epoch=%d loss=%.4f forget_ma=%.4f forget_el10=%.4f"
                                        + " retain_ma=%.4f seconds=%.1f", m.key, e.epoch(), e.loss(), e.forgetMa(),
                                e.forgetEl10(), e.retainMa(), e.seconds()));
                double storyAfter = scoring.storyNll(result.modelDir(), storiesPath);
                double runSeconds = seconds(t);
                thresholdMa = result.report().thresholdMa();
                thresholdEl = result.report().thresholdEl10();
                runs.add(new MethodRun(m.label, m.objective, settings.loraRank(), settings.fila(),
                        settings.learningRate(), settings.maxEpochs(), result.report().hyperparameters(),
                        points(result.report().epochs()), result.report().stoppedAtEpoch(),
                        result.report().reachedThreshold(), storyAfter, runSeconds));
                progress("event=run_done method=%s stopped_at_epoch=%d reached_threshold=%s story_nll=%.4f"
                                + " seconds=%.1f", m.key, result.report().stoppedAtEpoch(),
                        result.report().reachedThreshold(), storyAfter, runSeconds);
            }

            Setup setup = new Setup(display(root, modelPath), persons, data.forget().size(), data.unseen().size(),
                    seed, replayStories.size(), anchored ? anchorWeight : 0, finetuneEpochs, finetuneLr, finetuneBatch, finetuneSeconds, thresholdMa, thresholdEl,
                    data.forgetSubjectsSha256(), dev.isGpu() ? "gpu" : "cpu",
                    Runtime.getRuntime().availableProcessors());
            ExperimentResults results = new ExperimentResults(setup, before, runs, seconds(start));
            progress("event=seed_done seed=%d seconds=%.1f", seed, results.totalSeconds());
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("the experiment was interrupted", e);
        } catch (InvalidDataException | ModelLoadException e) {
            throw new UserException(e.getMessage(), e);
        } catch (IOException | UncheckedIOException e) {
            throw new UserException("could not read or write the experiment's files: " + e.getMessage(), e);
        } finally {
            if (temporary && work != null) {
                deleteTree(work);
            }
        }
    }

    /** The command line that reproduces this run, every option that shapes the numbers spelled out. */
    String reproduceCommand() {
        StringBuilder sb = new StringBuilder("./loku experiment memorisation");
        sb.append(String.format(Locale.ROOT, " --persons %d --forget-fraction %s --unseen %d --seeds %s", persons,
                forgetFraction, unseen, String.join(",", seeds.stream().map(String::valueOf).toList())));
        sb.append(String.format(Locale.ROOT, " --replay %d --replay-tokens %d --anchor-weight %s", replay, replayTokens,
                anchorWeight));
        sb.append(String.format(Locale.ROOT, " --finetune-epochs %d --finetune-lr %s --finetune-batch %d"
                + " --max-epochs %d", finetuneEpochs, finetuneLr, finetuneBatch, maxEpochs));
        if (rank != null) {
            sb.append(" --rank ").append(rank);
        }
        if (lr != null) {
            sb.append(" --lr ").append(lr);
        }
        if (fullLr != null) {
            sb.append(" --full-lr ").append(fullLr);
        }
        List<String> keys = methods.stream().map(String::trim).toList();
        if (!keys.equals(List.of("ga-full", "ga-lora", "gd-lora", "ihl-lora", "ihl-fila"))) {
            sb.append(" --methods ").append(String.join(",", keys));
        }
        if (model != null) {
            sb.append(" --model ").append(model);
        }
        if (stories != null) {
            sb.append(" --stories ").append(stories);
        }
        return sb.toString();
    }

    private void write(MemorisationSeeds all, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        // The chart shows the first seed's epochs; the page's summary table has every seed.
        ExperimentChart.write(all.seeds().get(0), outDir.resolve("memorisation.png"));
        Files.writeString(outDir.resolve("memorisation.json"), all.toJson(), StandardCharsets.UTF_8);
        Files.writeString(outDir.resolve("memorisation.md"),
                ExperimentTable.seedsDocument(all, reproduceCommand(), "memorisation.png", "memorisation.json"),
                StandardCharsets.UTF_8);
    }

    private static List<EpochPoint> points(List<EpochRecord> epochs) {
        return epochs.stream().map(e -> new EpochPoint(e.epoch(), e.loss(), e.forgetMa(), e.forgetEl10(),
                e.retainMa(), e.retainNll(), e.seconds())).toList();
    }

    private void progress(String format, Object... args) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("experiment: " + String.format(Locale.ROOT, format, args));
        err.flush();
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** The launcher passes the project root; run from elsewhere, the working directory stands in for it. */
    static Path projectRoot() {
        String prop = System.getProperty("loku.project.root");
        return Path.of(prop != null ? prop : "").toAbsolutePath();
    }

    /** Paths inside the project are shown relative to it, so the page reads the same on every machine. */
    static String display(Path root, Path p) {
        Path abs = p.toAbsolutePath().normalize();
        return abs.startsWith(root) ? root.relativize(abs).toString() : abs.toString();
    }

    private static void deleteTree(Path dir) {
        try {
            JobWorkDir.deleteRecursively(dir);
        } catch (IOException e) {
            // A leftover temporary folder is harmless; the results are already written.
        }
    }

    /**
     * One method's settings: the engine's LoKU defaults (targets, alpha = 2r, batch size) with the method's
     * objective, LoRA rank (0 for full weights), FILA switch, learning rate, and the shared budget and seed.
     */
    static UnlearnSettings settings(Method m, UnlearnSettings defaults, int rank, double loraLr, double fullLr,
            int budget, long seed) {
        return defaults.withMethod(m.objective).withLoraRank(m.lora ? rank : 0).withFila(m.fila)
                .withLearningRate(m.lora ? loraLr : fullLr).withMaxEpochs(budget).withSeed(seed);
    }
}
