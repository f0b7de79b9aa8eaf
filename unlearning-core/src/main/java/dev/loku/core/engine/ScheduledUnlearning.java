package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.model.CausalLm;
import dev.loku.core.objective.UnlearningObjective;
import dev.loku.core.train.AdamW;
import dev.loku.core.train.AdamWConfig;
import dev.loku.core.train.Gradients;
import dev.loku.core.train.LearningRateSchedule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Unlearning as TOFU's reference recipe runs it (docs/method.md §3.1), for any objective of §4 and either full weights or
 * LoRA factors: a fixed number of epochs, no stop rule; each epoch visits the forget set in a fresh seeded shuffle,
 * one optimiser step per micro-batch of {@code batchSize} forget records, each paired with as many retain records
 * drawn at random with replacement (§8.16); AdamW with weight decay 0.01, the learning rate warming up linearly over
 * the first epoch and then decaying linearly to 0 at the last step (§8.9). A probe sees the model at epoch 0 and
 * after every epoch, where TOFU evaluates its checkpoints.
 */
final class ScheduledUnlearning {

    static final AdamWConfig ADAMW = AdamWConfig.torchDefaults(0.01);

    private ScheduledUnlearning() {
    }

    static void run(CausalLm model, ReferenceModel reference, TrainableWeights weights, UnlearningObjective objective,
                    List<EncodedExample> trainForget, List<EncodedExample> retain, UnlearnSettings settings,
                    int epochs, EpochProbe probe) throws InterruptedException {
        ObjectiveStep step = new ObjectiveStep(model, reference, objective);
        boolean needsRetain = step.needs().retainBatch();
        if (needsRetain && retain.isEmpty()) {
            throw new IllegalArgumentException(objective.method().id() + " needs retain records");
        }
        Random random = new Random(settings.seed());
        int stepsPerEpoch = ModelBatches.chunks(trainForget, settings.batchSize()).size();
        LearningRateSchedule schedule = LearningRateSchedule.linearWarmupDecay(settings.learningRate(),
                stepsPerEpoch, stepsPerEpoch * epochs);
        List<EncodedExample> order = new ArrayList<>(trainForget);

        double first = 0;
        List<List<EncodedExample>> chunks = ModelBatches.chunks(order, settings.batchSize());
        for (List<EncodedExample> f : chunks) {
            RecordSetEvaluator.checkInterrupted();
            first += step.value(f, needsRetain ? partners(retain, f.size(), random) : null);
        }
        probe.afterEpoch(0, first / chunks.size(), model);

        Map<String, NDArray> params = weights.parameters();
        try (NDManager scope = model.manager().newSubManager(); AdamW adam = new AdamW(ADAMW, scope)) {
            int update = 0;
            for (int epoch = 1; epoch <= epochs; epoch++) {
                Collections.shuffle(order, random);
                double sum = 0;
                chunks = ModelBatches.chunks(order, settings.batchSize());
                for (List<EncodedExample> f : chunks) {
                    RecordSetEvaluator.checkInterrupted();
                    sum += step.backward(f, needsRetain ? partners(retain, f.size(), random) : null);
                    Map<String, NDArray> grads = Gradients.of(params);
                    try {
                        adam.step(params, grads, schedule.rate(update++));
                    } finally {
                        grads.values().forEach(NDArray::close);
                    }
                    Gradients.zero(params.values());
                }
                probe.afterEpoch(epoch, sum / chunks.size(), model);
            }
        }
    }

    private static List<EncodedExample> partners(List<EncodedExample> retain, int count, Random random) {
        List<EncodedExample> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(retain.get(random.nextInt(retain.size())));
        }
        return out;
    }
}
