package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.metrics.Thresholds;
import dev.loku.core.model.CausalLm;
import dev.loku.core.objective.ObjectiveNeeds;
import dev.loku.core.objective.TermCounts;
import dev.loku.core.objective.UnlearningObjective;
import dev.loku.core.train.AdamW;
import dev.loku.core.train.AdamWConfig;
import dev.loku.core.train.GradientAccumulator;
import dev.loku.core.train.Gradients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unlearning epochs of the extraction-benchmark protocol (docs/method.md §3.2), for any objective of §4 and either
 * full weights or LoRA factors:
 * <ol>
 *   <li>epoch 0 measures forget MA/EL_10 and retain MA/NLL before any update;</li>
 *   <li>each epoch is one optimiser step over the whole forget set: its micro-batches are each paired with a retain
 *       micro-batch of equal size drawn at random with replacement, anew every epoch (§2.2, §8.16), and their
 *       gradients are averaged ({@link GradientAccumulator}) into a single Adam update (§8.13): each micro-batch
 *       1/n, or weighted by what its terms average over ({@link MicroBatchWeighting});</li>
 *   <li>after the update forget MA/EL_10 and retain MA/NLL are measured (all of them, or only what the stop rule
 *       needs: {@link EpochEvaluation}); the loop stops as soon as both forget metrics are below the thresholds
 *       (the stop rule), or after the epoch budget.</li>
 * </ol>
 * Adam as Jang et al.: betas (0.9, 0.98), no weight decay, a constant learning rate.
 */
final class UnlearningLoop {

    private static final Logger LOG = LoggerFactory.getLogger(UnlearningLoop.class);

    static final AdamWConfig ADAM = new AdamWConfig(0.9, 0.98, 1e-8, 0.0);

    record Outcome(List<EpochRecord> epochs, int stoppedAtEpoch, boolean reachedThreshold) {}

    private final CausalLm model;
    private final TrainableWeights weights;
    private final ObjectiveStep step;
    private final ObjectiveNeeds needs;
    private final List<EncodedExample> forget;
    private final List<EncodedExample> trainForget;
    private final List<EncodedExample> retain;
    private final UnlearnSettings settings;
    private final RecordSetEvaluator evaluator;
    private final EpochEvaluation evaluation;
    private final MicroBatchWeighting weighting;

    /**
     * @param reference the frozen starting model, when the objective needs reference logits (KL, NPO); else null
     * @param forget the forget records as measured (MA, EL_10)
     * @param trainForget the forget records as trained on: {@code forget} itself, or its refusal-labelled copy (idk)
     */
    UnlearningLoop(CausalLm model, ReferenceModel reference, TrainableWeights weights, UnlearningObjective objective,
                   List<EncodedExample> forget, List<EncodedExample> trainForget, List<EncodedExample> retain,
                   UnlearnSettings settings, RecordSetEvaluator evaluator, EpochEvaluation evaluation,
                   MicroBatchWeighting weighting) {
        this.model = model;
        this.weights = weights;
        this.step = new ObjectiveStep(model, reference, objective);
        this.needs = objective.needs();
        this.forget = forget;
        this.trainForget = trainForget;
        this.retain = retain;
        this.settings = settings;
        this.evaluator = evaluator;
        this.evaluation = evaluation;
        this.weighting = weighting;
        if (needs.retainBatch() && retain.isEmpty()) {
            throw new IllegalArgumentException(objective.method().id() + " needs retain records");
        }
    }

    Outcome run(Thresholds thresholds, EpochListener listener) throws InterruptedException {
        try {
            return run(thresholds, listener, null, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // unreachable: without checkpoints nothing is read or written
        }
    }

    /**
     * As {@link #run(Thresholds, EpochListener)}, saving the state in {@code checkpoints} after every trained epoch
     * that does not end the run, and first resuming from the newest checkpoint of {@code runKey} there, if any: the
     * epochs it holds are neither trained nor told to the listener again, and the retain draws of those epochs are
     * replayed from the seed, so the resumed run trains and ends exactly as the uninterrupted one. Null
     * {@code checkpoints} keeps no state.
     */
    Outcome run(Thresholds thresholds, EpochListener listener, EpochCheckpoints checkpoints, String runKey)
            throws InterruptedException, IOException {
        Random sampler = new Random(settings.seed());
        List<EpochRecord> epochs = new ArrayList<>();
        List<EncodedExample> partners = retainSample(sampler);
        Map<String, NDArray> params = weights.parameters();
        try (NDManager scope = model.manager().newSubManager(); AdamW adam = new AdamW(ADAM, scope);
                GradientAccumulator accumulator = new GradientAccumulator(scope,
                        ModelBatches.chunks(forget, settings.batchSize()).size())) {
            Optional<EpochCheckpoints.Resumed> resumed = checkpoints == null ? Optional.empty()
                    : checkpoints.resume(runKey, params, adam, scope);
            int first = 1;
            if (resumed.isPresent()) {
                epochs.addAll(resumed.get().epochs());
                first = resumed.get().epoch() + 1;
                for (int e = 2; e < first; e++) {
                    partners = retainSample(sampler); // the draws of the epochs already trained
                }
                LOG.info("event=unlearn_resumed from_epoch={} checkpoint_dir={}", resumed.get().epoch(),
                        checkpoints.dir());
            } else {
                long start = System.nanoTime();
                double loss0 = epochLoss(partners, null);
                EpochRecord zero = measure(0, loss0, start, thresholds);
                epochs.add(zero);
                listener.onEpoch(zero);
                if (thresholds.reachedBy(zero.forgetMa(), zero.forgetEl10())) {
                    return new Outcome(epochs, 0, true);
                }
            }
            for (int epoch = first; epoch <= settings.maxEpochs(); epoch++) {
                long start = System.nanoTime();
                if (epoch > 1) {
                    partners = retainSample(sampler);
                }
                double loss = epochLoss(partners, accumulator);
                RecordSetEvaluator.checkInterrupted();
                adam.step(params, accumulator.gradients(), settings.learningRate());
                accumulator.reset();
                EpochRecord record = measure(epoch, loss, start, thresholds);
                epochs.add(record);
                boolean reached = thresholds.reachedBy(record.forgetMa(), record.forgetEl10());
                if (checkpoints != null && !reached && epoch < settings.maxEpochs()) {
                    checkpoints.save(runKey, epoch, epochs, params, adam);
                }
                listener.onEpoch(record);
                if (reached) {
                    return new Outcome(epochs, epoch, true);
                }
            }
        }
        return new Outcome(epochs, settings.maxEpochs(), false);
    }

    /** |D_f| retain records drawn uniformly with replacement (docs/method.md §2.2, §8.16); empty when not needed. */
    private List<EncodedExample> retainSample(Random sampler) {
        List<EncodedExample> out = new ArrayList<>(forget.size());
        if (!needs.retainBatch()) {
            return out;
        }
        for (int i = 0; i < forget.size(); i++) {
            out.add(retain.get(sampler.nextInt(retain.size())));
        }
        return out;
    }

    /**
     * The objective over the whole forget set in micro-batches: with {@link MicroBatchWeighting#EQUAL} the mean of
     * the micro-batch losses; with {@link MicroBatchWeighting#TOKENS} the sum of the micro-batch terms each weighted
     * by its count over the epoch's total ({@link ObjectiveStep.Weights}), i.e. each term as one mean over the whole
     * epoch. With an accumulator the micro-batch gradients are added to it (1/n each, or as weighted in the loss);
     * without one this is a forward pass only (epoch 0). Package-private for the tests.
     */
    double epochLoss(List<EncodedExample> partners, GradientAccumulator accumulator) throws InterruptedException {
        List<List<EncodedExample>> forgetChunks = ModelBatches.chunks(trainForget, settings.batchSize());
        List<List<EncodedExample>> retainChunks = needs.retainBatch()
                ? ModelBatches.chunks(partners, settings.batchSize()) : null;
        List<ObjectiveStep.Weights> shares = weighting == MicroBatchWeighting.TOKENS
                ? tokenWeights(forgetChunks, retainChunks) : null;
        Map<String, NDArray> params = weights.parameters();
        double sum = 0;
        for (int c = 0; c < forgetChunks.size(); c++) {
            RecordSetEvaluator.checkInterrupted();
            List<EncodedExample> f = forgetChunks.get(c);
            List<EncodedExample> r = retainChunks == null ? null : retainChunks.get(c);
            if (accumulator == null) {
                sum += shares == null ? step.value(f, r) : step.value(f, r, shares.get(c));
            } else {
                sum += shares == null ? step.backward(f, r) : step.backward(f, r, shares.get(c));
                Map<String, NDArray> grads = Gradients.of(params);
                try {
                    if (shares == null) {
                        accumulator.add(grads);
                    } else {
                        accumulator.add(grads, 1f);
                    }
                } finally {
                    grads.values().forEach(NDArray::close);
                }
                Gradients.zero(params.values());
            }
        }
        return shares == null ? sum / forgetChunks.size() : sum;
    }

    /** Each micro-batch's term weights: its counts over the epoch's totals (the retain partners change per epoch). */
    private List<ObjectiveStep.Weights> tokenWeights(List<List<EncodedExample>> forgetChunks,
                                                     List<List<EncodedExample>> retainChunks) {
        List<TermCounts> counts = new ArrayList<>(forgetChunks.size());
        long forgetTotal = 0;
        long retainTotal = 0;
        for (int c = 0; c < forgetChunks.size(); c++) {
            TermCounts n = step.counts(forgetChunks.get(c), retainChunks == null ? null : retainChunks.get(c));
            counts.add(n);
            forgetTotal += n.forget();
            retainTotal += n.retain();
        }
        TermCounts totals = new TermCounts(forgetTotal, retainTotal);
        return counts.stream().map(n -> ObjectiveStep.Weights.share(n, totals)).toList();
    }

    /**
     * The epoch's scores as {@link #evaluation} asks: everything, or (stop rule) forget MA, forget EL_10 once MA is
     * below its threshold, and retain only at epoch 0 and at the epoch training ends (stop rule met or last epoch).
     */
    private EpochRecord measure(int epoch, double loss, long startNanos, Thresholds thresholds)
            throws InterruptedException {
        boolean everything = evaluation == EpochEvaluation.EVERY_EPOCH;
        RecordSetScores f = evaluator.score(model, forget, everything);
        if (!everything && f.ma() < thresholds.ma()) {
            f = evaluator.score(model, forget, true);
        }
        boolean ends = epoch == settings.maxEpochs() || thresholds.reachedBy(f.ma(), f.el10());
        boolean retainNow = everything || epoch == 0 || ends;
        RecordSetScores r = retain.isEmpty() || !retainNow ? null : evaluator.score(model, retain, false);
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        return new EpochRecord(epoch, loss, f.ma(), f.el10(), r == null ? Double.NaN : r.ma(),
                r == null ? Double.NaN : r.nll(), seconds);
    }
}
