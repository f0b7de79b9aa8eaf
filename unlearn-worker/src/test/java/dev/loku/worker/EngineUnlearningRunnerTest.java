package dev.loku.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.engine.EpochRecord;
import dev.loku.core.engine.MicroBatchWeighting;
import dev.loku.runtime.config.InvalidConfigException;
import dev.loku.core.engine.UnlearnReport;
import dev.loku.core.engine.UnlearnResult;
import dev.loku.core.engine.UnlearnSettings;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.events.AdapterInitialization;
import dev.loku.events.UnlearningObjective;
import dev.loku.runtime.catalogue.UnlearningProfile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a catalogue profile and the engine's report cross the worker's boundary. */
class EngineUnlearningRunnerTest {

    private static UnlearningProfile profile(UnlearningObjective method, AdapterInitialization init) {
        return new UnlearningProfile(method, init, 4, 0.001, 10, 0.05, 0.1, 3,
                UnlearningProfile.RetryStrengthening.DEFAULT);
    }

    @Test
    void everyKnownObjectiveMapsToADistinctEngineMethod() {
        List<UnlearningMethod> methods = new ArrayList<>();
        for (UnlearningObjective o : UnlearningObjective.values()) {
            if (o != UnlearningObjective.UNKNOWN) {
                methods.add(EngineUnlearningRunner.method(o));
            }
        }
        // IDK trains the forget questions towards refusal answers, a file the offline TOFU experiment supplies;
        // the pipeline's profiles offer every other engine method, each once.
        List<UnlearningMethod> offered = new ArrayList<>(List.of(UnlearningMethod.values()));
        offered.remove(UnlearningMethod.IDK);
        assertEquals(offered, methods, "exactly the engine's methods but idk, each once");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EngineUnlearningRunner.method(UnlearningObjective.UNKNOWN));
        assertTrue(e.getMessage().contains("INVERTED_HINGE_LOSS"), e.getMessage());
    }

    @Test
    void filaAndDefaultLoraAreRunnableFullFinetuneAndUnknownAreRefused() {
        assertTrue(EngineUnlearningRunner.fila(AdapterInitialization.FILA));
        assertFalse(EngineUnlearningRunner.fila(AdapterInitialization.LORA_DEFAULT));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> EngineUnlearningRunner.fila(AdapterInitialization.FULL_FINETUNE)).getMessage()
                .contains("no adapter"));
        assertThrows(IllegalArgumentException.class, () -> EngineUnlearningRunner.fila(AdapterInitialization.UNKNOWN));
    }

    @Test
    void settingsTakeTheProfileAtItsAttemptAndKeepLokusOtherDefaults() {
        UnlearningProfile attempt2 = new UnlearningProfile(UnlearningObjective.GRADIENT_DIFFERENCE,
                AdapterInitialization.LORA_DEFAULT, 8, 0.002, 6, 0.05, 0.1, 3,
                new UnlearningProfile.RetryStrengthening(2.0, 1.5, 2.0)).forAttempt(2);
        UnlearnSettings s = EngineUnlearningRunner.settings(attempt2, 99L);
        UnlearnSettings loku = UnlearnSettings.loku();
        assertEquals(UnlearningMethod.GD, s.method());
        assertEquals(16, s.loraRank());
        assertFalse(s.fila());
        assertEquals(0.004, s.learningRate(), 1e-12);
        assertEquals(9, s.maxEpochs());
        assertEquals(99L, s.seed());
        assertEquals(32.0, s.loraAlpha(), "alpha = 2r, the paper's choice, at the strengthened rank");
        assertEquals(loku.targets(), s.targets());
        assertEquals(loku.batchSize(), s.batchSize());

        UnlearnSettings lokuProfile = EngineUnlearningRunner.settings(
                profile(UnlearningObjective.INVERTED_HINGE_LOSS, AdapterInitialization.FILA), 7L);
        assertEquals(UnlearningMethod.IHL, lokuProfile.method());
        assertTrue(lokuProfile.fila());
        assertEquals(4, lokuProfile.loraRank());
    }

    @Test
    void theOutcomeHasTheTrainedEpochsOnlyAndTheEnginesRecord() {
        List<EpochRecord> epochs = List.of(
                new EpochRecord(0, Double.NaN, 0.95, 0.7, 0.9, 1.1, 2.0),
                new EpochRecord(1, 0.8, 0.5, 0.3, 0.89, 1.2, 3.0),
                new EpochRecord(2, 0.4, 0.2, 0.04, Double.NaN, Double.NaN, 3.5));
        UnlearnReport report = new UnlearnReport(UnlearningMethod.IHL, Map.of("lora_alpha", "8.0", "batch_size", "4"), 42L,
                "ab", "cd", 0.3, 0.05, epochs, 2, true);
        UnlearnResult result = new UnlearnResult(report, Path.of("w/unlearn/model"), Path.of("w/unlearn/adapter"));
        UnlearningProfile p = profile(UnlearningObjective.INVERTED_HINGE_LOSS, AdapterInitialization.FILA);

        UnlearningRunner.UnlearningOutcome o = EngineUnlearningRunner.outcome(result, p);

        assertEquals(List.of(1, 2), o.epochs().stream().map(UnlearningRunner.EpochOutcome::epoch).toList());
        UnlearningRunner.EpochOutcome first = o.epochs().get(0);
        assertEquals(0.8, first.loss());
        assertEquals(0.5, first.forgetMa());
        assertEquals(0.3, first.forgetEl10());
        assertEquals(0.89, first.retainMa());
        assertEquals(1.2, first.retainNll());
        assertEquals(3.0, first.seconds());
        assertNull(o.epochs().get(1).retainMa(), "a skipped retain score is absent, not NaN");
        assertNull(o.epochs().get(1).retainNll());
        assertEquals(2, o.stoppedAtEpoch());
        assertTrue(o.reachedThreshold());
        assertEquals(Map.of("lora_alpha", "8.0", "batch_size", "4"), o.hyperparameters());
        assertEquals(UnlearningObjective.INVERTED_HINGE_LOSS, o.objective());
        assertEquals(AdapterInitialization.FILA, o.initialization());
        assertEquals(Path.of("w/unlearn/model"), o.modelDir());
        assertEquals(Path.of("w/unlearn/adapter"), o.adapterDir());

        assertThrows(IllegalStateException.class, () -> EngineUnlearningRunner.outcome(
                new UnlearnResult(report, Path.of("m"), null), p), "no adapter, nothing to store");
    }

    @Test
    void anUnusableDeviceIsAOneLineRefusalNamingTheService() {
        WorkerConfig config = WorkerConfig.of(Map.of("artifacts.root", "/tmp/a", "models.catalogue", "/tmp/c.json",
                "worker.device", "gpu:42"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> EngineUnlearningRunner.forConfig(config));
        assertTrue(e.getMessage().startsWith("'worker' cannot start: "), e.getMessage());
        assertTrue(e.getMessage().contains("gpu:42"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void microBatchWeightingIsEqualUnlessTheConfigurationAsksForTokens() {
        Map<String, String> base = Map.of("artifacts.root", "/tmp/a", "models.catalogue", "/tmp/c.json");
        assertEquals(MicroBatchWeighting.EQUAL, WorkerConfig.of(base).engineMicroBatchWeighting());
        Map<String, String> tokens = new java.util.HashMap<>(base);
        tokens.put("worker.micro.batch.weighting", "tokens");
        assertEquals(MicroBatchWeighting.TOKENS, WorkerConfig.of(tokens).engineMicroBatchWeighting());
        tokens.put("worker.micro.batch.weighting", "records");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> WorkerConfig.of(tokens));
        assertTrue(String.join(" ", e.problems()).contains("worker.micro.batch.weighting"), e.getMessage());
    }

    @Test
    void theCandidatesExportTypeIsTheCheckpointsOwnUnlessTheConfigurationNamesOne() {
        Map<String, String> base = Map.of("artifacts.root", "/tmp/a", "models.catalogue", "/tmp/c.json",
                "worker.device", "cpu");
        assertNull(EngineUnlearningRunner.engineFor(WorkerConfig.of(base)).exportType(), "auto by default");
        Map<String, String> named = new java.util.HashMap<>(base);
        Map<String, ai.djl.ndarray.types.DataType> expected = Map.of("fp32", ai.djl.ndarray.types.DataType.FLOAT32,
                "fp16", ai.djl.ndarray.types.DataType.FLOAT16, "bf16", ai.djl.ndarray.types.DataType.BFLOAT16);
        expected.forEach((setting, type) -> {
            named.put("worker.export.dtype", setting);
            assertEquals(type, EngineUnlearningRunner.engineFor(WorkerConfig.of(named)).exportType(), setting);
        });
        named.put("worker.export.dtype", "int8");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> WorkerConfig.of(named));
        assertTrue(String.join(" ", e.problems()).contains("worker.export.dtype"), e.getMessage());
    }

    @Test
    void progressIsToldAboutTrainedEpochsNotTheMeasurementBeforeTraining() {
        List<Integer> told = new ArrayList<>();
        UnlearningRunner.ProgressListener listener = e -> told.add(e.epoch());
        for (EpochRecord r : Arrays.asList(new EpochRecord(0, Double.NaN, 1, 1, 1, 1, 0),
                new EpochRecord(1, 1, 1, 1, 1, 1, 0))) {
            EngineUnlearningRunner.progressOf(listener).onEpoch(r);
        }
        assertEquals(List.of(1), told);
    }
}
