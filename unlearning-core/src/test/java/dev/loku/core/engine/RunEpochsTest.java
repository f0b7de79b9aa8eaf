package dev.loku.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.loku.core.bench.MemoryBench;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.metrics.Thresholds;
import dev.loku.core.model.DecoderModel;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.testing.ProjectFiles;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link UnlearningEngine#runEpochs}, the loop on encoded records that {@code loku bench peer} times: it trains the
 * epochs asked for, measures what the engine's evaluation mode says, and leaves the model as it found it.
 */
@SuppressWarnings("try") // NoGrad is a scope guard
class RunEpochsTest {

    private static final Thresholds NEVER = new Thresholds(0, 0);

    private static UnlearnSettings settings() {
        return UnlearnSettings.loku().withFila(false).withLoraRank(4).withBatchSize(2).withLearningRate(1e-2)
                .withMaxEpochs(3);
    }

    @Test
    void everyEpochIsTrainedAndMeasuredAndTheModelIsLeftAsItWas() throws Exception {
        try (DecoderModel model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu())) {
            List<EncodedExample> forget = MemoryBench.examples(new Random(1), model.config().vocabSize(), 4, 24);
            List<EncodedExample> retain = MemoryBench.examples(new Random(2), model.config().vocabSize(), 4, 24);
            float[] before = logits(model, forget);

            List<EpochRecord> epochs = new UnlearningEngine(Device.cpu())
                    .withEpochEvaluation(EpochEvaluation.EVERY_EPOCH).runEpochs(model, forget, retain, settings(), NEVER);

            assertEquals(List.of(0, 1, 2, 3), epochs.stream().map(EpochRecord::epoch).toList());
            for (EpochRecord e : epochs) {
                assertTrue(e.seconds() > 0, e.toString());
                assertFalse(Double.isNaN(e.forgetEl10()) || Double.isNaN(e.retainNll()), e.toString());
            }
            // Epoch 0's loss is the first epoch's objective at the starting weights, before its update.
            assertEquals(epochs.get(0).loss(), epochs.get(1).loss(), 1e-6);
            assertNotEquals(epochs.get(1).loss(), epochs.get(3).loss(), "the updates moved the adapters");
            assertArrayEquals(before, logits(model, forget), "the adapters are removed after the run");
        }
    }

    @Test
    void theStopRulesEvaluationSkipsWhatTheRuleDoesNotNeed() throws Exception {
        try (DecoderModel model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu())) {
            List<EncodedExample> forget = MemoryBench.examples(new Random(1), model.config().vocabSize(), 4, 24);
            List<EncodedExample> retain = MemoryBench.examples(new Random(2), model.config().vocabSize(), 4, 24);

            List<EpochRecord> epochs = new UnlearningEngine(Device.cpu())
                    .withEpochEvaluation(EpochEvaluation.STOP_RULE).runEpochs(model, forget, retain, settings(), NEVER);

            assertEquals(4, epochs.size());
            // Forget MA never falls below a threshold of 0, so EL_10 is never needed; retain only at 0 and the end.
            assertTrue(epochs.stream().allMatch(e -> Double.isNaN(e.forgetEl10())), epochs.toString());
            assertTrue(epochs.stream().noneMatch(e -> Double.isNaN(e.forgetMa())), epochs.toString());
            assertFalse(Double.isNaN(epochs.get(0).retainNll()));
            assertTrue(Double.isNaN(epochs.get(1).retainNll()) && Double.isNaN(epochs.get(2).retainNll()));
            assertFalse(Double.isNaN(epochs.get(3).retainNll()));
        }
    }

    @Test
    void filaIsRefusedBecauseItsResidualWouldStayInTheModel() throws Exception {
        try (DecoderModel model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu())) {
            List<EncodedExample> forget = MemoryBench.examples(new Random(1), model.config().vocabSize(), 2, 24);
            UnlearnSettings fila = settings().withFila(true);
            assertThrows(IllegalArgumentException.class,
                    () -> new UnlearningEngine(Device.cpu()).runEpochs(model, forget, forget, fila, NEVER));
        }
    }

    private static float[] logits(DecoderModel model, List<EncodedExample> records) {
        try (NoGrad ignored = NoGrad.enter(); NDManager scope = model.manager().newSubManager()) {
            return model.logits(scope, ModelBatches.of(records, 0)).toFloatArray();
        }
    }
}
