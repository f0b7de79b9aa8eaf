package dev.loku.core.model;

import static dev.loku.core.testing.LoraPerturbation.perturbB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.loku.core.bench.MemoryBench;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.lora.LoraConfig;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.objective.InvertedHingeLoss;
import dev.loku.core.objective.ObjectiveInputs;
import dev.loku.core.objective.ScoredBatch;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.train.Gradients;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Activation checkpointing changes what a training forward keeps, not what its backward computes: on stories260K and
 * on every family's fixture, the gradients of a LoRA IHL+NLL step (the adapters) and of a full-weight NLL step
 * (every weight, embeddings and a tied head included) equal those of the ordinary backward, on padded batches of
 * unequal lengths, and a checkpointed step leaves no array behind.
 */
@SuppressWarnings("try") // NoGrad is a scope guard
class ActivationCheckpointingTest {

    /**
     * The same operations in the same order per layer: on CPU the gradients came out bit-identical; the bound leaves
     * room for kernels that sum in a different order (a few ulps of the largest entry).
     */
    private static final double RELATIVE_TOLERANCE = 1e-6;

    static Stream<Path> models() throws IOException {
        List<Path> out = new ArrayList<>();
        out.add(ProjectFiles.stories260K());
        FamilyFixtureTest.fixtures().forEach(f -> out.add(f.dir().resolve("model")));
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("models")
    void loraIhlStepHasTheOrdinaryGradients(Path dir) {
        try (DecoderModel model = ModelLoader.load(dir, Device.cpu());
                LoraModel lora = LoraModel.attach(model, LoraConfig.defaults(4), 3)) {
            Map<String, NDArray> params = lora.trainableParameters();
            perturbB(params, 0.05f, 11); // B starts at 0, which would leave every A gradient 0
            List<EncodedExample> forget = examples(model, 1, 3);
            List<EncodedExample> retain = examples(model, 2, 3);
            BiFunction<CausalLm, NDManager, NDArray> ihl = (m, scope) -> {
                var f = ModelBatches.of(forget, 0);
                var r = ModelBatches.of(retain, 0);
                return new InvertedHingeLoss().compute(ObjectiveInputs.of(
                        new ScoredBatch(m.logits(scope, f), f.labelsArray(scope)),
                        new ScoredBatch(m.logits(scope, r), r.labelsArray(scope)))).total();
            };
            assertSameGradients(model, params, ihl, dir + " LoRA IHL+NLL");
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void fullWeightNllStepHasTheOrdinaryGradients(Path dir) {
        try (DecoderModel model = ModelLoader.load(dir, Device.cpu())) {
            Map<String, NDArray> params = model.parameters();
            params.values().forEach(p -> p.setRequiresGradient(true));
            try {
                List<EncodedExample> batch = examples(model, 4, 3);
                assertSameGradients(model, params, (m, scope) -> m.meanNll(scope, ModelBatches.of(batch, 0)),
                        dir + " full-weight NLL");
            } finally {
                params.values().forEach(p -> p.setRequiresGradient(false));
            }
        }
    }

    private static void assertSameGradients(DecoderModel model, Map<String, NDArray> params,
                                            BiFunction<CausalLm, NDManager, NDArray> loss, String what) {
        model.setActivationCheckpointing(false);
        Map<String, float[]> plain = gradients(model, params, loss);
        model.setActivationCheckpointing(true);
        int live = LiveArrays.count();
        Map<String, float[]> checkpointed = gradients(model, params, loss);
        assertEquals(live, LiveArrays.count(), what + ": the checkpointed step leaves no array behind");
        model.setActivationCheckpointing(false);

        double largest = 0;
        for (float[] g : plain.values()) {
            for (float v : g) {
                largest = Math.max(largest, Math.abs(v));
            }
        }
        assertTrue(largest > 1e-4, what + ": the step has gradients to compare (largest " + largest + ")");
        for (Map.Entry<String, float[]> e : plain.entrySet()) {
            float[] a = e.getValue();
            float[] b = checkpointed.get(e.getKey());
            assertEquals(a.length, b.length, e.getKey());
            boolean nonZero = false;
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs(a[i] - b[i]);
                assertTrue(d <= RELATIVE_TOLERANCE * largest, what + ": " + e.getKey() + "[" + i + "] is " + b[i]
                        + " with checkpointing, " + a[i] + " without (largest gradient " + largest + ")");
                nonZero |= a[i] != 0;
            }
            assertFalse(!nonZero && hasNonZero(b), what + ": " + e.getKey() + " only has gradients when checkpointed");
        }
    }

    /** One backward of {@code loss}; the gradients as Java arrays, then zeroed on the parameters. */
    private static Map<String, float[]> gradients(DecoderModel model, Map<String, NDArray> params,
                                                  BiFunction<CausalLm, NDManager, NDArray> loss) {
        try (NDManager scope = model.manager().newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            model.backward(gc, loss.apply(model, scope));
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        Map<String, NDArray> grads = Gradients.of(params);
        grads.forEach((name, g) -> out.put(name, g.toFloatArray()));
        grads.values().forEach(NDArray::close);
        Gradients.zero(params.values());
        return out;
    }

    private static boolean hasNonZero(float[] v) {
        for (float x : v) {
            if (x != 0) {
                return true;
            }
        }
        return false;
    }

    /** {@code n} random sequences of unequal length (so the batch is padded), seeded. */
    private static List<EncodedExample> examples(CausalLm model, long seed, int n) {
        Random random = new Random(seed);
        List<EncodedExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.addAll(MemoryBench.examples(random, model.config().vocabSize(), 1, 12 + 5 * i));
        }
        return out;
    }
}
