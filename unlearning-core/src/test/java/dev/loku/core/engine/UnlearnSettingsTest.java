package dev.loku.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.objective.UnlearningMethod;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The settings' defaults, chaining and validation, and the report's JSON form. */
class UnlearnSettingsTest {

    @Test
    void lokuIsIhlWithFilaOnEveryProjectionAndAlphaTwiceTheRank() {
        UnlearnSettings s = UnlearnSettings.loku();
        assertEquals(UnlearningMethod.IHL, s.method());
        assertTrue(s.fila());
        assertTrue(s.loraRank() > 0);
        assertEquals(2.0 * s.loraRank(), s.loraAlpha());
        assertEquals(UnlearnSettings.ALL_TARGETS, s.targets());
        s.validate();
    }

    @Test
    void withersChangeOneThingAndRankZeroMeansFullWeightsWithoutFila() {
        UnlearnSettings s = UnlearnSettings.loku().withMethod(UnlearningMethod.byId("GD")).withLoraRank(16).withLearningRate(0.5)
                .withMaxEpochs(7).withSeed(9).withTargets(List.of("mlp"));
        assertEquals(UnlearningMethod.GD, s.method());
        assertEquals(16, s.loraRank());
        assertEquals(32.0, s.loraAlpha());
        assertEquals(0.5, s.learningRate());
        assertEquals(7, s.maxEpochs());
        assertEquals(9, s.seed());
        assertEquals(List.of("mlp"), s.targets()); // expanded per model family when the adapters are made
        UnlearnSettings full = UnlearnSettings.loku().withLoraRank(0);
        assertFalse(full.fila());
        full.validate();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> full.withFila(true).validate());
        assertTrue(e.getMessage().contains("LoRA rank above 0"), e.getMessage());
    }

    @Test
    void badValuesAreRefusedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> UnlearningMethod.byId("dpo"))
                .getMessage().contains("ihl, ga, gd, kl, npo"));
        assertThrows(NullPointerException.class, () -> UnlearnSettings.loku().withMethod(null));
        assertThrows(IllegalArgumentException.class, () -> UnlearnSettings.loku().withLoraRank(-1));
        assertThrows(IllegalArgumentException.class, () -> UnlearnSettings.loku().withLearningRate(0));
        assertThrows(IllegalArgumentException.class, () -> UnlearnSettings.loku().withMaxEpochs(0));
        assertThrows(IllegalArgumentException.class, () -> UnlearnSettings.loku().withTargets(List.of("lm_head")));
    }

    @Test
    void reportJsonHasTheDocumentedShapeAndWritesNonFiniteNumbersAsNull() throws Exception {
        UnlearnReport report = new UnlearnReport(UnlearningMethod.IHL, Map.of("lora_rank", "8"), 42, "ab", "cd", 0.5, 0.25,
                List.of(new EpochRecord(0, 1.5, 0.9, 0.8, 0.95, 0.1, 2.0),
                        new EpochRecord(1, Double.NaN, 0.4, 0.2, 0.94, 0.12, 1.0)), 1, true);
        JsonNode j = new ObjectMapper().readTree(report.toJson());
        assertEquals("ihl", j.get("method").asText());
        assertEquals("8", j.get("hyperparameters").get("lora_rank").asText());
        assertEquals(42, j.get("seed").asLong());
        assertEquals("ab", j.get("base_model_sha256").asText());
        assertEquals("cd", j.get("forget_sha256").asText());
        assertEquals(0.5, j.get("thresholds").get("ma").asDouble());
        assertEquals(0.25, j.get("thresholds").get("el10").asDouble());
        assertEquals(2, j.get("epochs").size());
        assertEquals(0, j.get("epochs").get(0).get("epoch").asInt());
        assertEquals(0.8, j.get("epochs").get(0).get("forget_el10").asDouble());
        assertTrue(j.get("epochs").get(1).get("loss").isNull());
        assertEquals(1, j.get("stopped_at_epoch").asInt());
        assertTrue(j.get("reached_threshold").asBoolean());
    }
}
