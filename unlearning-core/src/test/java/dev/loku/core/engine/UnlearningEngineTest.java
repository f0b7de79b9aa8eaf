package dev.loku.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.SyntheticPersons;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.model.LiveArrays;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.testing.ProjectFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine end to end on a small real setup: stories260K fine-tuned on ten synthetic person records until it
 * memorises them, then three of them unlearned.
 */
class UnlearningEngineTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static UnlearningEngine engine;
    private static Path base;
    private static Path forget;
    private static Path retain;
    private static Path unseen;
    private static RecordSets sets;
    private static FinetuneResult finetuned;

    @BeforeAll
    static void memorise() throws Exception {
        engine = new UnlearningEngine(Device.cpu());
        List<SyntheticPersons.Person> people = SyntheticPersons.generate(11, 13);
        Path train = dir.resolve("train.jsonl");
        EngineTuningBench.writePersons(train, people.subList(0, 10));
        forget = dir.resolve("forget.jsonl");
        EngineTuningBench.writePersons(forget, people.subList(0, 3));
        retain = dir.resolve("retain.jsonl");
        EngineTuningBench.writePersons(retain, people.subList(3, 10));
        unseen = dir.resolve("unseen.jsonl");
        EngineTuningBench.writePersons(unseen, people.subList(10, 13));
        sets = new RecordSets(forget, retain, unseen);
        List<Integer> epochsDone = new ArrayList<>();
        finetuned = engine.finetune(ProjectFiles.stories260K(), train, new FinetuneSettings(60, 1e-2, 10, 3),
                dir.resolve("finetuned"), epochsDone::add);
        base = finetuned.modelDir();
        assertEquals(60, epochsDone.size());
        assertEquals(60, epochsDone.get(59));
    }

    @Test
    void finetuningMemorisesTheRecordsAndWritesALoadableFolder() throws Exception {
        assertTrue(finetuned.trainMa() > 0.8, "train MA " + finetuned.trainMa());
        assertTrue(Files.isRegularFile(base.resolve("config.json")));
        EvaluationReport scores = engine.evaluate(base, sets);
        assertTrue(scores.forget().ma() > scores.unseen().ma() + 0.1, "memorised beyond unseen: " + scores);
        assertTrue(scores.forget().el10() > scores.unseen().el10(), scores.toString());
        assertTrue(Double.isNaN(scores.retain().el10()), "retain EL_10 is not measured by default");
    }

    @Test
    void scoringOneSetGivesTheNumbersTheThreeSetEvaluationGivesForIt() throws Exception {
        RecordSetScores one = engine.score(base, forget);
        EvaluationReport three = engine.evaluate(base, sets, false);
        assertEquals(three.forget(), one);
        assertEquals(3, one.records());
    }

    @Test
    void lokuLowersForgetMemorisationAndTheSameSeedGivesTheSameReport() throws Exception {
        UnlearnSettings settings = UnlearnSettings.loku().withLoraRank(4).withMaxEpochs(3).withLearningRate(1e-2);
        UnlearnResult first = engine.unlearn(base, sets, null, settings, dir.resolve("a"),
                EpochListener.none());
        List<EpochRecord> heard = new ArrayList<>();
        int arraysBefore = LiveArrays.count();
        UnlearnResult second = engine.unlearn(base, sets, null, settings, dir.resolve("b"),
                heard::add);
        assertEquals(arraysBefore, LiveArrays.count(), "native arrays left behind by unlearn()");

        UnlearnReport report = first.report();
        List<EpochRecord> epochs = report.epochs();
        assertEquals(0, epochs.get(0).epoch(), "epoch 0 comes first");
        for (int i = 0; i < epochs.size(); i++) {
            assertEquals(i, epochs.get(i).epoch());
        }
        assertEquals(report.stoppedAtEpoch(), epochs.get(epochs.size() - 1).epoch());
        EpochRecord last = epochs.get(epochs.size() - 1);
        assertTrue(last.forgetMa() < epochs.get(0).forgetMa() - 0.05,
                "forget MA " + epochs.get(0).forgetMa() + " -> " + last.forgetMa());
        assertTrue(last.forgetEl10() < epochs.get(0).forgetEl10(),
                "forget EL_10 " + epochs.get(0).forgetEl10() + " -> " + last.forgetEl10());

        EvaluationReport baseScores = engine.evaluate(base, sets);
        assertEquals(baseScores.unseen().ma(), report.thresholdMa(), 1e-12, "threshold = unseen MA of the base");
        assertEquals(baseScores.unseen().el10(), report.thresholdEl10(), 1e-12,
                "threshold = unseen EL_10 of the base");
        assertEquals(baseScores.forget().ma(), epochs.get(0).forgetMa(), 1e-12, "epoch 0 is the untouched model");
        assertEquals(report.reachedThreshold(),
                last.forgetMa() < report.thresholdMa() && last.forgetEl10() < report.thresholdEl10());

        // Determinism: the second run heard every epoch and produced the same numbers.
        assertEquals(second.report().epochs().size(), heard.size());
        assertEquals(epochs.size(), second.report().epochs().size());
        for (int i = 0; i < epochs.size(); i++) {
            EpochRecord a = epochs.get(i);
            EpochRecord b = second.report().epochs().get(i);
            assertEquals(a.loss(), b.loss(), 0.0, "loss, epoch " + i);
            assertEquals(a.forgetMa(), b.forgetMa(), 0.0, "forget MA, epoch " + i);
            assertEquals(a.forgetEl10(), b.forgetEl10(), 0.0, "forget EL, epoch " + i);
            assertEquals(a.retainMa(), b.retainMa(), 0.0, "retain MA, epoch " + i);
            assertEquals(a.retainNll(), b.retainNll(), 0.0, "retain NLL, epoch " + i);
        }

        // Outputs: the merged model scores as the last epoch did; the PEFT adapter and FILA's residual base exist.
        assertNotNull(first.adapterDir());
        assertTrue(Files.isRegularFile(first.adapterDir().resolve("adapter_config.json")));
        assertTrue(Files.isRegularFile(first.adapterDir().resolve("adapter_model.safetensors")));
        EvaluationReport after = engine.evaluate(first.modelDir(), sets);
        assertEquals(last.forgetMa(), after.forget().ma(), 0.02, "the exported merged model is the trained one");
        assertEquals(last.retainNll(), after.retain().nll(), 1e-3);

        // The JSON carries exactly the documented keys; no record text.
        JsonNode json = JSON.readTree(report.toJson());
        assertEquals(Set.of("method", "hyperparameters", "seed", "base_model_sha256", "forget_sha256", "thresholds",
                "epochs", "stopped_at_epoch", "reached_threshold"), keys(json));
        assertEquals(Set.of("ma", "el10"), keys(json.get("thresholds")));
        assertEquals(Set.of("epoch", "loss", "forget_ma", "forget_el10", "retain_ma", "retain_nll", "seconds"),
                keys(json.get("epochs").get(0)));
        assertEquals("ihl", json.get("method").asText());
        assertEquals("4", json.get("hyperparameters").get("lora_rank").asText());
        assertEquals("true", json.get("hyperparameters").get("fila").asText());
        assertEquals(ContentHash.of(forget), json.get("forget_sha256").asText());
        assertEquals(64, json.get("base_model_sha256").asText().length());
        String text = report.toJson();
        for (String line : Files.readAllLines(forget)) {
            String name = JSON.readTree(line).get("text").asText().split(" was born")[0];
            assertFalse(text.contains(name), "the report names no one");
        }
    }

    /**
     * Stop-rule evaluation measures less and decides the same: every epoch's loss and forget MA, the stopping epoch
     * and the trained model equal the every-epoch run's; EL_10 is measured exactly where forget MA is below its
     * threshold (and then equals the every-epoch value), retain only at epoch 0 and the last epoch.
     */
    @Test
    void stopRuleEvaluationSkipsWhatTheRuleDoesNotNeedAndStopsWhereEveryEpochStops() throws Exception {
        UnlearnSettings settings = UnlearnSettings.loku().withLoraRank(4).withMaxEpochs(6).withLearningRate(1e-2);
        UnlearnResult every = engine.unlearn(base, sets, null, settings, dir.resolve("every"), EpochListener.none());
        UnlearnResult lazy = engine.withEpochEvaluation(EpochEvaluation.STOP_RULE).unlearn(base, sets, null, settings,
                dir.resolve("lazy"), EpochListener.none());
        List<EpochRecord> full = every.report().epochs();
        List<EpochRecord> part = lazy.report().epochs();
        assertEquals(every.report().stoppedAtEpoch(), lazy.report().stoppedAtEpoch());
        assertEquals(every.report().reachedThreshold(), lazy.report().reachedThreshold());
        assertEquals(full.size(), part.size());
        double maThreshold = every.report().thresholdMa();
        int skipped = 0;
        for (int i = 0; i < full.size(); i++) {
            EpochRecord a = full.get(i);
            EpochRecord b = part.get(i);
            assertEquals(a.loss(), b.loss(), 0.0, "loss, epoch " + i);
            assertEquals(a.forgetMa(), b.forgetMa(), 0.0, "forget MA, epoch " + i);
            if (b.forgetMa() < maThreshold) {
                assertEquals(a.forgetEl10(), b.forgetEl10(), 0.0, "EL_10 measured once MA is below, epoch " + i);
            } else {
                assertTrue(Double.isNaN(b.forgetEl10()), "EL_10 skipped while MA is not below, epoch " + i);
                skipped++;
            }
            boolean retainExpected = i == 0 || i == full.size() - 1;
            assertEquals(retainExpected, !Double.isNaN(b.retainMa()), "retain measured at epoch " + i);
            if (retainExpected) {
                assertEquals(a.retainMa(), b.retainMa(), 0.0);
                assertEquals(a.retainNll(), b.retainNll(), 0.0);
            }
        }
        assertTrue(skipped > 0, "the run has epochs whose EL_10 the rule did not need: " + part);
        assertArrayEquals(Files.readAllBytes(every.modelDir().resolve("model.safetensors")),
                Files.readAllBytes(lazy.modelDir().resolve("model.safetensors")), "the same trained model");
    }

    /**
     * Equal micro-batch weighting is the default and the recipe as it was: a run that names it gives every epoch's
     * loss and the model bytes of a run that does not. Token weighting is another step once the micro-batches differ
     * (batch size 2 cuts the three forget records into 2 + 1), and each report names its weighting.
     */
    @Test
    void equalMicroBatchWeightingIsTheDefaultBitForBitAndTokenWeightingIsOptIn() throws Exception {
        UnlearnSettings settings = UnlearnSettings.loku().withLoraRank(4).withMaxEpochs(2).withLearningRate(1e-2)
                .withBatchSize(2);
        UnlearningEngine lazy = engine.withEpochEvaluation(EpochEvaluation.STOP_RULE);
        assertEquals(MicroBatchWeighting.EQUAL, engine.microBatchWeighting());
        UnlearnResult unset = lazy.unlearn(base, sets, null, settings, dir.resolve("weighting-unset"),
                EpochListener.none());
        UnlearnResult equal = lazy.withMicroBatchWeighting(MicroBatchWeighting.EQUAL).unlearn(base, sets, null,
                settings, dir.resolve("weighting-equal"), EpochListener.none());
        UnlearnResult tokens = lazy.withMicroBatchWeighting(MicroBatchWeighting.TOKENS).unlearn(base, sets, null,
                settings, dir.resolve("weighting-tokens"), EpochListener.none());
        List<EpochRecord> a = unset.report().epochs();
        List<EpochRecord> b = equal.report().epochs();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(Double.doubleToRawLongBits(a.get(i).loss()), Double.doubleToRawLongBits(b.get(i).loss()),
                    "loss, epoch " + i);
        }
        byte[] unsetBytes = Files.readAllBytes(unset.modelDir().resolve("model.safetensors"));
        assertArrayEquals(unsetBytes, Files.readAllBytes(equal.modelDir().resolve("model.safetensors")),
                "the same trained model");
        assertFalse(java.util.Arrays.equals(unsetBytes,
                Files.readAllBytes(tokens.modelDir().resolve("model.safetensors"))),
                "token weighting steps otherwise on micro-batches of unequal token counts");
        assertEquals("equal", unset.report().hyperparameters().get("micro_batch_weighting"));
        assertEquals("equal", equal.report().hyperparameters().get("micro_batch_weighting"));
        assertEquals("tokens", tokens.report().hyperparameters().get("micro_batch_weighting"));
    }

    /** A float16 engine holds, trains and exports the weights in float16 and says so in the report. */
    @Test
    void aFloat16EngineExportsFloat16AndNamesItsWeightTypeInTheReport() throws Exception {
        UnlearnSettings settings = UnlearnSettings.loku().withLoraRank(4).withMaxEpochs(1).withLearningRate(1e-2);
        // stop-rule evaluation: libtorch's CPU float16 kernels make every EL_10 slow
        UnlearnResult half = engine.withWeightType(DataType.FLOAT16).withActivationCheckpointing(true)
                .withEpochEvaluation(EpochEvaluation.STOP_RULE).unlearn(base, sets, null, settings, dir.resolve("half"), EpochListener.none());
        Map<String, String> hp = half.report().hyperparameters();
        assertEquals("float16", hp.get("weight_dtype"));
        assertEquals("true", hp.get("activation_checkpointing"));
        assertEquals("stop-rule", hp.get("epoch_evaluation"));
        try (SafetensorsFile f = SafetensorsFile.open(half.modelDir().resolve("model.safetensors"))) {
            assertEquals("F16", f.entry("model.embed_tokens.weight").dtype());
        }
        EpochRecord zero = half.report().epochs().get(0);
        EvaluationReport fp32 = engine.evaluate(base, sets);
        assertEquals(fp32.forget().ma(), zero.forgetMa(), 0.02, "float16 scores the base as float32 does, nearly");
        assertEquals("float32", engine.unlearn(base, sets, null, settings, dir.resolve("full-precision"),
                EpochListener.none()).report().hyperparameters().get("weight_dtype"));
    }

    @Test
    void fullWeightKlStartsFromMinusTheForgetNllKeepsNoAdapterAndFlatMemory() throws Exception {
        // One micro-batch holds the whole forget set, and KL(ref || θ) = 0 before any update: loss_0 = −NLL(forget).
        // A small rate, so that the stop rule does not end the run before the memory check has three epochs.
        UnlearnSettings settings = UnlearnSettings.loku().withMethod(UnlearningMethod.KL).withLoraRank(0)
                .withMaxEpochs(4).withLearningRate(1e-4);
        List<Integer> liveArrays = new ArrayList<>();
        UnlearnResult result = engine.unlearn(base, sets, null, settings, dir.resolve("kl"),
                e -> liveArrays.add(LiveArrays.count()));
        assertEquals(5, result.report().epochs().size(), "the budget was used: " + result.report().toJson());
        // Native memory stays flat once the optimiser state exists (epochs 2..4).
        assertEquals(liveArrays.get(2), liveArrays.get(4), "arrays per epoch: " + liveArrays);
        double forgetNll;
        try (CausalLm m = ModelLoader.load(base, Device.cpu())) {
            List<EncodedExample> f = RecordFiles.read(m, forget);
            forgetNll = new RecordSetEvaluator().score(m, f, false).nll();
        }
        assertEquals(-forgetNll, result.report().epochs().get(0).loss(), 1e-4);
        assertNull(result.adapterDir());
        assertFalse(Files.exists(dir.resolve("kl").resolve("adapter")));
        assertTrue(result.report().epochs().get(4).forgetMa() <= result.report().epochs().get(0).forgetMa());
        assertFalse(result.report().reachedThreshold());
        assertEquals("0", result.report().hyperparameters().get("lora_rank"));
    }

    /**
     * libtorch records autograd graphs by default on a new thread (DJL switches that off only on the thread that
     * loaded it), so a caller on its own thread, as every service job is, must not need to switch it off itself.
     */
    @Test
    void theEngineOwnsItsGradModeOnAnyThreadAndGivesTheCallersBack() throws Exception {
        UnlearnSettings settings = UnlearnSettings.loku().withLoraRank(2).withMaxEpochs(1);
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                boolean before = JniUtils.isGradMode();
                UnlearnResult r = engine.unlearn(base, sets, null, settings, dir.resolve("own-thread"), null);
                engine.evaluate(r.modelDir(), sets);
                outcome.set(List.of(before, JniUtils.isGradMode(), r.report().epochs().size()));
            } catch (Throwable t) {
                outcome.set(t);
            }
        }, "engine-caller");
        caller.start();
        caller.join();
        if (outcome.get() instanceof Throwable t) {
            throw new AssertionError("the engine failed on a thread of its caller's: " + t, t);
        }
        assertEquals(List.of(true, true, 2), outcome.get(),
                "[grad mode before, grad mode after, epochs]: libtorch's default kept, epoch 0 and one trained");
    }

    @Test
    void anInterruptDuringUnlearningStopsItWithInterruptedExceptionAndFreesEverything() {
        int arraysBefore = LiveArrays.count();
        UnlearnSettings settings = UnlearnSettings.loku().withLoraRank(0).withMethod(UnlearningMethod.GA)
                .withMaxEpochs(5);
        try {
            org.junit.jupiter.api.Assertions.assertThrows(InterruptedException.class, () -> engine.unlearn(base,
                    sets, null, settings, dir.resolve("interrupted"),
                    e -> Thread.currentThread().interrupt()));
        } finally {
            Thread.interrupted();
        }
        assertEquals(arraysBefore, LiveArrays.count(), "native arrays left behind by an interrupted run");
        assertFalse(Files.exists(dir.resolve("interrupted").resolve("model")), "no candidate after an interrupt");
    }

    @Test
    void importanceFileHoldsForgetAndRetainFisherForTheTargets() throws Exception {
        Path out = dir.resolve("importance").resolve("fisher.safetensors");
        ImportanceSummary summary = engine.estimateImportance(base, forget, retain, List.of("q_proj", "down_proj"),
                5, out);
        long forgetTokens;
        try (CausalLm m = ModelLoader.load(base, Device.cpu())) {
            forgetTokens = RecordFiles.read(m, forget).stream().mapToLong(EncodedExample::labelCount).sum();
            try (FisherImportance fisher = FisherImportance.load(out, m.manager())) {
                assertEquals(summary.forgetTokens(), fisher.forgetCount());
                assertEquals(summary.retainTokens(), fisher.retainCount());
                int layers = m.config().numLayers();
                assertEquals(2 * layers, fisher.names().size(), fisher.names().toString());
                assertTrue(fisher.names().stream().allMatch(n -> n.endsWith("q_proj.weight")
                        || n.endsWith("down_proj.weight")));
                assertEquals(ContentHash.of(forget), fisher.metadata().get(FisherImportance.FORGET_SHA256));
            }
        }
        assertEquals(forgetTokens, summary.forgetTokens(), "N_f counts the forget set's label tokens");
        assertTrue(summary.retainTokens() > 0);
        assertEquals(out, summary.file());
    }

    private static Set<String> keys(JsonNode node) {
        Set<String> out = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }
}
