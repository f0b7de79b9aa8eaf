package dev.loku.core.engine;

import static dev.loku.core.testing.LoraPerturbation.perturbB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.JsonlRecords;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.fisher.FisherPass;
import dev.loku.core.lora.LoraConfig;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.LiveArrays;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.testing.ProjectFiles;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * KL's and NPO's frozen reference (docs/method.md §4) on a LoRA model is the model itself with its adapters at their
 * starting point: it holds no second copy of the weights, its logits are the starting model's, and a KL or NPO step
 * computes the loss it computed against a separate frozen copy.
 */
@SuppressWarnings("try") // NoGrad is a scope guard
class SharedReferenceTest {

    @Test
    void loraReferenceHoldsNoCopyAndGivesTheStartingLogitsAndTheSameKlAndNpoLosses() throws Exception {
        try (CausalLm model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu())) {
            List<EncodedExample> forget = examples(model, 0, 3);
            List<EncodedExample> retain = examples(model, 10, 13);
            TokenBatch batch = ModelBatches.of(retain, model.tokenizer().padId());
            float[] before = logits(model, batch);
            // Today's reference, taken where the engine took it before: a copy of the starting weights.
            try (ReferenceModel copy = ReferenceModel.copyOf(model)) {
                LoraWeights weights = new LoraWeights(LoraModel.attach(model, LoraConfig.defaults(4), 42), false,
                        "stories260K");
                try (weights) {
                    perturbB(weights.parameters(), 0.05f, 3); // stands in for training
                    float[] trained = logits(model, batch);
                    assertTrue(maxAbsDiff(before, trained) > 0.01, "the perturbed adapters change the logits");

                    int live = LiveArrays.count();
                    try (ReferenceModel shared = weights.reference()) {
                        assertEquals(live, LiveArrays.count(), "the shared reference holds no array of its own");
                        float[] ref = referenceLogits(model, shared, batch);
                        assertEquals(0.0, maxAbsDiff(before, ref), "adapters switched off: the starting model");
                        assertEquals(0.0, maxAbsDiff(trained, logits(model, batch)), "adapters put back after");
                        for (UnlearningMethod method : List.of(UnlearningMethod.KL, UnlearningMethod.NPO)) {
                            double withCopy = new ObjectiveStep(model, copy, method.objective()).value(forget,
                                    retain);
                            int beforeStep = LiveArrays.count();
                            double withShared = new ObjectiveStep(model, shared, method.objective()).value(forget,
                                    retain);
                            assertEquals(beforeStep, LiveArrays.count(), method + ": the step leaves no array");
                            assertEquals(withCopy, withShared, 0.0, method + ": same loss as with a copy");
                        }
                    }
                }
            }
            // A copy, for contrast, is one array per weight: the count above can tell.
            int live = LiveArrays.count();
            try (ReferenceModel copy = new FullWeights(model).reference()) {
                assertTrue(LiveArrays.count() - live >= model.parameters().size(), "a copy holds every weight");
            }
            model.parameters().values().forEach(p -> p.setRequiresGradient(false));
        }
    }

    @Test
    void filaReferenceIsTheResidualBasePlusTheStartingFactors() throws Exception {
        try (CausalLm model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu())) {
            TokenBatch batch = ModelBatches.of(examples(model, 10, 13), model.tokenizer().padId());
            float[] before = logits(model, batch);
            LoraModel lora;
            try (FisherImportance importance = FisherPass.run(model, examples(model, 0, 4), examples(model, 10, 14),
                    null, 2, Map.of())) {
                lora = LoraModel.attachFila(model, LoraConfig.defaults(4), importance, 42);
            }
            try (LoraWeights weights = new LoraWeights(lora, true, "stories260K")) {
                perturbB(weights.parameters(), 0.05f, 5);
                float[] trained = logits(model, batch);
                assertTrue(maxAbsDiff(before, trained) > 0.01, "the perturbed adapters change the logits");
                int live = LiveArrays.count();
                try (ReferenceModel shared = weights.reference()) {
                    float[] ref = referenceLogits(model, shared, batch);
                    assertEquals(live, LiveArrays.count());
                    double d = maxAbsDiff(before, ref);
                    assertTrue(d <= 1e-4, "the starting model up to fp32 rounding, off by " + d);
                    assertEquals(0.0, maxAbsDiff(trained, logits(model, batch)), "adapters put back after");
                }
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static List<EncodedExample> examples(CausalLm model, int from, int to) throws Exception {
        var records = JsonlRecords.read(ProjectFiles.data("stories/stories.jsonl")).subList(from, to);
        return new ExampleEncoder(model.tokenizer(), 64).encodeAll(records, "stories.jsonl");
    }

    private static float[] logits(CausalLm model, TokenBatch batch) {
        try (NoGrad ignored = NoGrad.enter(); NDManager m = model.manager().newSubManager()) {
            return model.logits(m, batch).toFloatArray();
        }
    }

    private static float[] referenceLogits(CausalLm model, ReferenceModel ref, TokenBatch batch) {
        try (NoGrad ignored = NoGrad.enter(); NDManager m = model.manager().newSubManager()) {
            return ref.logits(m, batch).toFloatArray();
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
