package dev.loku.cli;

import dev.loku.core.engine.EvaluationReport;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.eval.CandidateEvaluator;
import dev.loku.events.AdapterInitialization;
import dev.loku.events.UnlearningObjective;
import dev.loku.fisher.ImportanceEstimator;
import dev.loku.runtime.testing.PipelineFixtures;
import dev.loku.worker.UnlearningRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The three engine boundaries faked for pipeline tests: small but valid files, scripted scores. What to do is
 * read from a scenario tag in the forget text ({@code [pass]}, {@code [retry]}, {@code [fail]}, {@code [broken]},
 * {@code [crash]}), and the attempt from the profile's learning rate (doubled by each retry). The real engine
 * replaces each of them through the same constructor argument of its service.
 */
final class FakeEngines {

    /** The base version: memorised everything; its unseen scores (MA 0.3, EL_10 0.05) are the thresholds. */
    static final EvaluationReport BASE = EvaluationReport.of(0.9, 0.6, 0.8, 2.0, 0.3, 0.05);
    static final Map<String, EvaluationReport> CANDIDATES = Map.of(
            "forgot", EvaluationReport.of(0.1, 0.01, 0.79, 2.02, 0.3, 0.05),
            "remembers", EvaluationReport.of(0.6, 0.3, 0.8, 2.0, 0.3, 0.05));

    private static final Pattern TAG = Pattern.compile("\\[([a-z-]+)\\]");

    private final Path stories;
    /** Released when a {@code [crash]} job has started and is blocking until interrupted. */
    final CountDownLatch crashJobStarted = new CountDownLatch(1);
    /** Released when that job was interrupted. */
    final CountDownLatch crashJobInterrupted = new CountDownLatch(1);
    private final Set<String> crashedOnce = ConcurrentHashMap.newKeySet();

    FakeEngines(Path storiesFolder) {
        this.stories = storiesFolder;
    }

    /** A one-tensor importance file; fails, quoting the forget text, for {@code [broken]} sets. */
    ImportanceEstimator estimator() {
        return job -> {
            String text = Files.readString(job.forgetSetJsonl());
            if (tags(text).contains("broken")) {
                throw new IllegalStateException("cannot tokenize " + text);
            }
            // Different sets get different importance, as with a real estimator (and so different blobs).
            return new ImportanceEstimator.ImportanceOutcome(PipelineFixtures.tinySafetensors(
                    job.workDir().resolve("importance.safetensors"), "model.layers.0.fisher", 0.25f,
                    text.hashCode()), 64, 64);
        };
    }

    /**
     * A candidate that is a copy of stories260K plus a {@code label.txt} naming its scripted scores, and a PEFT-like
     * adapter; two epochs reported. A {@code [crash]} set's first run blocks until it is interrupted.
     */
    UnlearningRunner runner() {
        return (job, progress) -> {
            try (SafetensorsFile importance = SafetensorsFile.open(job.importanceFile())) {
                if (importance.readFloats("model.layers.0.fisher").length != 2) {
                    throw new IllegalStateException("unexpected importance");
                }
            }
            String text = Files.readString(job.sets().forget());
            Set<String> tags = tags(text);
            if (tags.contains("crash") && crashedOnce.add(text)) {
                crashJobStarted.countDown();
                try {
                    Thread.sleep(120_000);
                } catch (InterruptedException e) {
                    crashJobInterrupted.countDown();
                    throw e;
                }
            }
            int attempt = 1 + (int) Math.round(Math.log(job.profile().learningRate() / 0.001) / Math.log(2));
            String label = tags.contains("fail") || (tags.contains("retry") && attempt == 1) ? "remembers" : "forgot";
            Path model = Files.createDirectories(job.workDir().resolve("model"));
            for (String f : List.of("stories260K.safetensors", "tok512.model")) {
                Files.copy(stories.resolve(f), model.resolve(f));
            }
            Files.writeString(model.resolve("config.json"), "{\"model_type\": \"llama\", \"dim\": 64}");
            Files.writeString(model.resolve("label.txt"), label);
            Path adapter = Files.createDirectories(job.workDir().resolve("adapter"));
            Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\": " + job.profile().loraRank() + "}");
            PipelineFixtures.tinySafetensors(adapter.resolve("adapter_model.safetensors"), "lora_A", attempt);
            List<UnlearningRunner.EpochOutcome> epochs = List.of(
                    new UnlearningRunner.EpochOutcome(1, 3.0, 0.7, 0.4, 0.8, 2.0, 0.01),
                    new UnlearningRunner.EpochOutcome(2, 2.0, 0.2, 0.02, 0.79, 2.02, 0.01));
            epochs.forEach(progress::epochFinished);
            return new UnlearningRunner.UnlearningOutcome(model, adapter, epochs, 2, label.equals("forgot"),
                    Map.of("lora_alpha", Integer.toString(2 * job.profile().loraRank())),
                    UnlearningObjective.INVERTED_HINGE_LOSS, AdapterInitialization.FILA);
        };
    }

    /** {@link #BASE} for the catalogue's checkpoint (a .bin file), a candidate's scores by its label. */
    CandidateEvaluator evaluator() {
        return (model, sets) -> {
            if (!Files.readString(sets.forget()).contains(PipelineFixtures.SECRET)) {
                throw new IllegalStateException("not the forget set");
            }
            if (Files.isRegularFile(model) && model.toString().endsWith(".bin")) {
                return BASE;
            }
            return CANDIDATES.get(Files.readString(model.resolve("label.txt")));
        };
    }

    private static Set<String> tags(String text) {
        Set<String> tags = new java.util.HashSet<>();
        Matcher m = TAG.matcher(text);
        while (m.find()) {
            tags.add(m.group(1));
        }
        return tags;
    }
}
