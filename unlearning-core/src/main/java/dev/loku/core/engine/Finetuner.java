package dev.loku.core.engine;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.train.AdamW;
import dev.loku.core.train.AdamWConfig;
import dev.loku.core.train.Gradients;
import dev.loku.core.train.LearningRateSchedule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Full fine-tuning, the way a model comes to memorise its training data (docs/method.md §3.1, base models): every weight
 * trains with AdamW (weight decay 0.01), the learning rate warms up linearly over the first epoch and then decays
 * linearly to 0, and each epoch visits the records in a fresh seeded shuffle, {@code batchSize} at a time.
 */
final class Finetuner {

    static final double WEIGHT_DECAY = 0.01;

    private Finetuner() {
    }

    /** Trains {@code model} in place and returns the mean loss per token of the last epoch. */
    static double train(CausalLm model, List<EncodedExample> data, FinetuneSettings settings, IntConsumer epochDone)
            throws InterruptedException {
        int padId = model.tokenizer().padId();
        int stepsPerEpoch = (data.size() + settings.batchSize() - 1) / settings.batchSize();
        LearningRateSchedule schedule = LearningRateSchedule.linearWarmupDecay(settings.learningRate(),
                stepsPerEpoch, stepsPerEpoch * settings.epochs());
        Map<String, NDArray> params = model.parameters();
        Random shuffle = new Random(settings.seed());
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            order.add(i);
        }
        double lastEpochLoss = Double.NaN;
        params.values().forEach(p -> p.setRequiresGradient(true));
        try (NDManager scope = model.manager().newSubManager(); AdamW adam = new AdamW(
                AdamWConfig.torchDefaults(WEIGHT_DECAY), scope)) {
            int update = 0;
            for (int epoch = 1; epoch <= settings.epochs(); epoch++) {
                Collections.shuffle(order, shuffle);
                double nllSum = 0;
                long tokens = 0;
                for (int from = 0; from < order.size(); from += settings.batchSize()) {
                    RecordSetEvaluator.checkInterrupted();
                    List<EncodedExample> batch = new ArrayList<>();
                    for (int k = from; k < Math.min(order.size(), from + settings.batchSize()); k++) {
                        batch.add(data.get(order.get(k)));
                    }
                    TokenBatch tokensBatch = ModelBatches.of(batch, padId);
                    double loss;
                    try (NDManager step = scope.newSubManager()) {
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray nll = model.meanNll(step, tokensBatch);
                            loss = nll.getFloat();
                            gc.backward(nll);
                        }
                        Map<String, NDArray> grads = Gradients.of(params);
                        try {
                            adam.step(params, grads, schedule.rate(update++));
                        } finally {
                            grads.values().forEach(NDArray::close);
                        }
                        Gradients.zero(params.values());
                    }
                    nllSum += loss * tokensBatch.targetCount();
                    tokens += tokensBatch.targetCount();
                }
                lastEpochLoss = nllSum / tokens;
                epochDone.accept(epoch);
            }
        } finally {
            params.values().forEach(p -> p.setRequiresGradient(false));
        }
        return lastEpochLoss;
    }
}
