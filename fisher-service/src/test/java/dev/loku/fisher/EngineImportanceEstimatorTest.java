package dev.loku.fisher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.engine.ImportanceSummary;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the engine's importance summary and device errors cross the Fisher service's boundary. */
class EngineImportanceEstimatorTest {

    @Test
    void theSummaryBecomesTheOutcomeUnchanged() {
        ImportanceEstimator.ImportanceOutcome o = EngineImportanceEstimator.outcome(
                new ImportanceSummary(Path.of("work/importance.safetensors"), 123L, 456L));
        assertEquals(Path.of("work/importance.safetensors"), o.safetensorsFile());
        assertEquals(123L, o.forgetTokens());
        assertEquals(456L, o.retainTokens());
    }

    @Test
    void anUnusableDeviceIsAOneLineRefusalNamingTheService() {
        FisherConfig config = FisherConfig.of(Map.of("artifacts.root", "/tmp/a", "models.catalogue", "/tmp/c.json",
                "fisher.device", "cuda:42"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> EngineImportanceEstimator.forConfig(config));
        assertTrue(e.getMessage().startsWith("'fisher' cannot start: "), e.getMessage());
        assertTrue(e.getMessage().contains("cuda:42"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
