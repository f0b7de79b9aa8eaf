package dev.loku.core.wiring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.TextRecord;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.data.TrainingRecord;
import dev.loku.core.fila.ExactSvd;
import dev.loku.core.fila.FilaFactors;
import dev.loku.core.fila.FilaInitializer;
import dev.loku.core.fisher.FisherAccumulator;
import dev.loku.core.fisher.FisherImportance;
import dev.loku.core.metrics.ContinuationGenerator;
import dev.loku.core.metrics.ExtractionLikelihood;
import dev.loku.core.metrics.ExtractionTarget;
import dev.loku.core.metrics.MemorisationAccuracy;
import dev.loku.core.metrics.RetainTolerance;
import dev.loku.core.metrics.TeacherForcedPredictions;
import dev.loku.core.metrics.Thresholds;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.objective.InvertedHingeLoss;
import dev.loku.core.objective.ObjectiveInputs;
import dev.loku.core.objective.ScoredBatch;
import dev.loku.core.objective.UnlearningObjective;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tokenizer.TextTokenizer;
import dev.loku.core.train.AdamW;
import dev.loku.core.train.AdamWConfig;
import dev.loku.core.train.Gradients;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The engine's pieces composed the way the trainer will compose them around the real model, on a toy bigram LM
 * (logits = one-hot(ids) · Wᵀ, W in PyTorch Linear layout [V_out, V_in]): fine-tune until memorised, Fisher pass,
 * FILA, IHL unlearning of LoRA factors with AdamW, per-epoch MA/EL and the stop rule.
 */
class EngineWiringTest {

    private static final int V = 40;

    /** "tK" is token K; PAD 0, BOS 1, EOS 2. */
    private static final TextTokenizer TOKENIZER = new TextTokenizer() {
        @Override
        public int[] encode(String text, boolean addBos) {
            IntStream words = java.util.Arrays.stream(text.trim().split("\\s+"))
                    .mapToInt(w -> Integer.parseInt(w.substring(1)));
            return addBos ? IntStream.concat(IntStream.of(1), words).toArray() : words.toArray();
        }

        @Override
        public String decode(int[] ids) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int vocabSize() {
            return V;
        }

        @Override
        public int bosId() {
            return 1;
        }

        @Override
        public int eosId() {
            return 2;
        }

        @Override
        public int padId() {
            return 0;
        }
    };

    /** W_eff = base + s · B A, the way a LoRA-wrapped linear layer computes it. */
    private static final class BigramLm {
        NDArray base;
        NDArray loraA;
        NDArray loraB;
        double scaling;

        NDArray weight() {
            return loraA == null ? base : base.add(loraB.matMul(loraA).mul((float) scaling));
        }

        NDArray logits(NDArray ids) {
            return ids.oneHot(V).matMul(weight().transpose());
        }

        /** Greedy decoding straight from the weight table: next = argmax_v W[v, last]. */
        ContinuationGenerator generator() {
            float[] w = TensorScope.call(() -> weight().toFloatArray());
            return (prefixes, maxNew) -> {
                List<int[]> out = new ArrayList<>();
                for (int k = 0; k < prefixes.size(); k++) {
                    int last = prefixes.get(k)[prefixes.get(k).length - 1];
                    int[] g = new int[maxNew[k]];
                    for (int i = 0; i < g.length; i++) {
                        int best = 0;
                        for (int v = 1; v < V; v++) {
                            if (w[v * V + last] > w[best * V + last]) {
                                best = v;
                            }
                        }
                        g[i] = best;
                        last = best;
                    }
                    out.add(g);
                }
                return out;
            };
        }
    }

    /** The engine's batch as the two arrays the bigram model and the objectives read. */
    private record ToyBatch(NDArray inputIds, NDArray labels) {
        static ToyBatch of(List<EncodedExample> examples, NDManager manager) {
            var batch = ModelBatches.of(examples, TOKENIZER.padId());
            return new ToyBatch(batch.idsArray(manager), batch.labelsArray(manager));
        }
    }

    private static double ma(BigramLm lm, ToyBatch batch) {
        return TensorScope.call(() -> MemorisationAccuracy.mean(
                TeacherForcedPredictions.fromLogits(lm.logits(batch.inputIds()), batch.labels())));
    }

    @Test
    void memoriseThenForgetWithFilaAndIhlUntilTheStopRule() {
        List<TrainingRecord> records = new ArrayList<>();
        for (int r = 0; r < 6; r++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < 5; k++) {
                sb.append(" t").append(3 + 5 * r + k);
            }
            records.add(new TextRecord(sb.toString(), r + 1));
        }
        ExampleEncoder encoder = new ExampleEncoder(TOKENIZER, 16);
        List<EncodedExample> forgetSet = encoder.encodeAll(records.subList(0, 2), "forget");
        List<EncodedExample> retainSet = encoder.encodeAll(records.subList(2, 6), "retain");
        List<ExtractionTarget> forgetTargets = forgetSet.stream().map(EncodedExample::extractionTarget).toList();
        ExtractionLikelihood el2 = new ExtractionLikelihood(2, 8);

        try (NDManager m = NDManager.newBaseManager();
                NDManager arrays = m.newSubManager()) {
            ToyBatch forget = ToyBatch.of(forgetSet, arrays);
            ToyBatch retain = ToyBatch.of(retainSet, arrays);
            BigramLm lm = new BigramLm();

            // 1. Full fine-tune on all records until memorised.
            lm.base = m.zeros(new Shape(V, V));
            lm.base.setRequiresGradient(true);
            Map<String, NDArray> full = Map.of("w", lm.base);
            try (AdamW adam = new AdamW(AdamWConfig.torchDefaults(0), m)) {
                for (int step = 0; step < 40; step++) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        TensorScope.run(() -> gc.backward(
                                CausalLmLoss.meanNll(new ScoredBatch(lm.logits(forget.inputIds()), forget.labels()))
                                        .add(CausalLmLoss.meanNll(
                                                new ScoredBatch(lm.logits(retain.inputIds()), retain.labels())))));
                    }
                    Map<String, NDArray> g = Gradients.of(full);
                    adam.step(full, g, 0.3);
                    g.values().forEach(NDArray::close);
                    Gradients.zero(full.values());
                }
            }
            double forgetMaBefore = ma(lm, forget);
            double retainMaBefore = ma(lm, retain);
            // The BOS row cannot predict six different first tokens, so 4 of the 5 positions is the ceiling.
            assertTrue(forgetMaBefore >= 0.8 && retainMaBefore >= 0.8, forgetMaBefore + " " + retainMaBefore);
            assertEquals(1.0, el2.mean(forgetTargets, lm.generator()), 1e-9, "memorised: every suffix extracted");

            // 2. Fisher pass: forget and retain gradients separately, token-weighted.
            FisherImportance importance;
            try (FisherAccumulator fisher = new FisherAccumulator(m)) {
                for (ToyBatch batch : List.of(forget, retain)) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        TensorScope.run(() -> gc.backward(CausalLmLoss.meanNll(
                                new ScoredBatch(lm.logits(batch.inputIds()), batch.labels()))));
                    }
                    Map<String, NDArray> g = Gradients.of(full);
                    long n = FisherAccumulator.labelTokenCount(batch.labels());
                    if (batch == forget) {
                        fisher.addForget(g, n);
                    } else {
                        fisher.addRetain(g, n);
                    }
                    g.values().forEach(NDArray::close);
                    Gradients.zero(full.values());
                }
                importance = fisher.finish(Map.of(FisherImportance.MODEL_SHA256, "toy"));
            }

            // 3. FILA: residual base frozen, A and B trainable; the model is unchanged at step 0.
            NDArray logitsBefore = lm.logits(forget.inputIds());
            int rank = 4;
            NDArray original = lm.base.stopGradient().duplicate();
            try (FilaFactors fila = new FilaInitializer(new ExactSvd())
                    .initialize(original, importance.relative("w"), rank, 2.0 * rank)) {
                lm.base = fila.residualWeight().duplicate();
                lm.loraA = fila.loraA().duplicate();
                lm.loraB = fila.loraB().duplicate();
                lm.scaling = fila.scaling();
            }
            importance.close();
            lm.loraA.setRequiresGradient(true);
            lm.loraB.setRequiresGradient(true);
            float[] before = logitsBefore.toFloatArray();
            float[] after = lm.logits(forget.inputIds()).toFloatArray();
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < before.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(before[i] - after[i]));
                maxAbs = Math.max(maxAbs, Math.abs(before[i]));
            }
            assertTrue(maxDiff <= 1e-4 * maxAbs, "logits moved by " + maxDiff + " at step 0");

            // 4. Unlearn with IHL + retain NLL on the LoRA factors until forget MA and EL_2 fall below thresholds.
            Thresholds thresholds = new Thresholds(0.5, 0.2);
            UnlearningObjective ihl = new InvertedHingeLoss();
            Map<String, NDArray> lora = new LinkedHashMap<>();
            lora.put("lora_A", lm.loraA);
            lora.put("lora_B", lm.loraB);
            int stoppedAt = -1;
            int steadyArrays = -1;
            try (AdamW adam = new AdamW(AdamWConfig.torchDefaults(0.01), m)) {
                for (int epoch = 1; epoch <= 60 && stoppedAt < 0; epoch++) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        TensorScope.run(() -> {
                            ObjectiveInputs in = ObjectiveInputs.of(
                                    new ScoredBatch(lm.logits(forget.inputIds()), forget.labels()),
                                    new ScoredBatch(lm.logits(retain.inputIds()), retain.labels()));
                            gc.backward(ihl.compute(in).total());
                        });
                    }
                    Map<String, NDArray> g = Gradients.of(lora);
                    adam.step(lora, g, 0.05);
                    g.values().forEach(NDArray::close);
                    Gradients.zero(lora.values());
                    double forgetMa = ma(lm, forget);
                    double forgetEl = el2.mean(forgetTargets, lm.generator());
                    if (thresholds.reachedBy(forgetMa, forgetEl)) {
                        stoppedAt = epoch;
                    }
                    if (epoch == 2) {
                        steadyArrays = m.getManagedArrays().size();
                    } else if (epoch > 2) {
                        assertEquals(steadyArrays, m.getManagedArrays().size(), "arrays leaked in epoch " + epoch);
                    }
                }
            }
            assertTrue(stoppedAt > 0, "IHL+FILA never reached the thresholds");
            double retainMaAfter = ma(lm, retain);
            assertTrue(RetainTolerance.TEN_POINTS.kept(retainMaBefore, retainMaAfter),
                    "retain MA fell from " + retainMaBefore + " to " + retainMaAfter);
        }
    }
}
