package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Many forward, scoring, generation and backward calls must not leave native arrays behind: counted over the whole
 * JVM through DJL's manager tree ({@link LiveArrays}), and in the model's own manager.
 */
class MemoryTest {
    @Test
    void repeatedCallsDoNotGrowTheNumberOfLiveArrays() {
        try (CausalLm model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
             NDManager caller = NDManager.newBaseManager(Device.cpu())) {
            TextTokenizer tok = model.tokenizer();
            List<int[]> texts = List.of(tok.encode("Once upon a time there was a cat.", true),
                    tok.encode("The dog ran", true), tok.encode("Lily", true));
            TokenBatch right = TokenBatch.of(texts, TokenBatch.Padding.RIGHT, tok.padId());
            TokenBatch left = TokenBatch.of(texts, TokenBatch.Padding.LEFT, tok.padId());
            String trained = "model.layers.1.self_attn.v_proj.weight";

            Runnable round = () -> {
                model.logits(caller, right).close();
                model.tokenLogProbs(caller, left).close();
                model.meanNll(caller, right).close();
                model.greedyPredictions(left);
                model.generateGreedy(texts, new int[] {6, 3, 9}, true);
                model.generateGreedyFromPrefixes(texts, new int[] {0, 2, 0}, new int[] {4, 1, 9}, new int[] {5, 2, 3},
                        false);
                NDArray w = model.parameter(trained);
                w.setRequiresGradient(true);
                // A training step gets its own manager: DJL's backward() leaves its seed gradient (a ones array)
                // in the loss's manager.
                try (NDManager step = caller.newSubManager();
                     GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(model.meanNll(step, right));
                }
                try (NDArray g = w.getGradient()) {
                    g.subi(g);
                }
                w.setRequiresGradient(false);
            };
            round.run(); // warm-up: lazily created state (gradient buffers) may appear once
            int globalBefore = LiveArrays.count();
            int modelBefore = LiveArrays.count(model.manager());
            int callerBefore = LiveArrays.count(caller);
            for (int i = 0; i < 25; i++) {
                round.run();
            }
            assertEquals(modelBefore, LiveArrays.count(model.manager()), "arrays in the model's manager");
            assertEquals(callerBefore, LiveArrays.count(caller), "arrays in the caller's manager");
            assertEquals(globalBefore, LiveArrays.count(), "arrays in the whole JVM");
            // Weights plus the two rotary tables, nothing else.
            assertEquals(model.parameterNames().size() + 2, LiveArrays.count(model.manager()));
        }
    }

    @Test
    void theCounterSeesALeak() {
        // Guards the test above against a counter that always reports the same number.
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            int before = LiveArrays.count();
            NDArray leaked = m.zeros(new ai.djl.ndarray.types.Shape(2));
            assertEquals(before + 1, LiveArrays.count());
            leaked.close();
            assertEquals(before, LiveArrays.count());
        }
    }
}
