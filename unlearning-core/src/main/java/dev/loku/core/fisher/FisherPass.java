package dev.loku.core.fisher;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.LinearProjection;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.train.Gradients;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Fisher pass on a real model (docs/method.md §2.2, §8.3): one pass over the forget examples and over the retain
 * examples in micro-batches of {@code batchSize}; for each micro-batch b, g_b = ∇ mean NLL over the batch's label
 * tokens (Hugging Face's causal-LM loss), and {@link FisherAccumulator} adds n_b · g_b ⊙ g_b in fp32, n_b being the
 * batch's label-token count. Forget and retain are backpropagated separately, as the reference does; micro-batch i
 * of forget is processed, then micro-batch i of retain (the reference's paired items).
 *
 * <p>The reference pairs each forget example with a random retain example, so the retain side has |D_f| examples;
 * the caller chooses that sample (and its seed) and passes it as {@code retain}.
 *
 * <p>The named weights require gradients only during the pass; their previous state is restored afterwards, also
 * when the pass fails or is interrupted. Every other weight of the model is frozen for the pass, so no gradient
 * buffer is made for a weight the pass does not accumulate; and a named weight that did not require gradients before
 * has its buffer freed at the end ({@link CausalLm#releaseGradient}), so the pass leaves no gradient behind (between
 * micro-batches the buffers are zeroed and reused: the next backward needs them again). Adapters installed on the
 * model take part in the forward pass as usual.
 */
public final class FisherPass {

    /** Metadata key recording the rotary layout (q/k row order) of the weights the importance was measured on. */
    public static final String KEY_ROTARY_LAYOUT = "rotary_layout";
    /** Metadata key: the micro-batch size of the pass. */
    public static final String KEY_BATCH_SIZE = "batch_size";

    private FisherPass() {
    }

    /**
     * Runs the pass.
     *
     * @param weightNames parameter names to measure; null or empty means every linear projection weight
     *     ({@link #projectionWeights}), the reference's coverage (embeddings, norms and the head excluded)
     * @param metadata provenance stored with the result (e.g. {@link FisherImportance#MODEL_SHA256}); the
     *     rotary layout and batch size are added
     * @throws InterruptedException when the thread is interrupted between two micro-batches
     * @throws IllegalArgumentException when a side has no example or no label token, or a name is unknown
     */
    public static FisherImportance run(CausalLm model, List<EncodedExample> forget, List<EncodedExample> retain,
                                       List<String> weightNames, int batchSize, Map<String, String> metadata)
            throws InterruptedException {
        if (forget.isEmpty() || retain.isEmpty()) {
            throw new IllegalArgumentException("the Fisher pass needs forget and retain examples (got "
                    + forget.size() + " and " + retain.size() + ")");
        }
        List<String> names = weightNames == null || weightNames.isEmpty()
                ? projectionWeights(model, null) : List.copyOf(weightNames);
        Map<String, NDArray> params = new LinkedHashMap<>();
        for (String name : names) {
            params.put(name, model.parameter(name));
        }
        List<List<EncodedExample>> forgetBatches = ModelBatches.chunks(forget, batchSize);
        List<List<EncodedExample>> retainBatches = ModelBatches.chunks(retain, batchSize);
        int padId = padId(model);

        Map<String, Boolean> previous = new LinkedHashMap<>();
        params.forEach((name, p) -> previous.put(name, p.hasGradient()));
        List<NDArray> frozen = new ArrayList<>();
        model.parameters().forEach((name, p) -> {
            if (!params.containsKey(name) && p.hasGradient()) {
                frozen.add(p);
            }
        });
        try (FisherAccumulator acc = new FisherAccumulator(model.manager())) {
            try {
                frozen.forEach(p -> p.setRequiresGradient(false));
                params.values().forEach(p -> p.setRequiresGradient(true));
                Gradients.zero(params.values());
                int rounds = Math.max(forgetBatches.size(), retainBatches.size());
                for (int i = 0; i < rounds; i++) {
                    if (i < forgetBatches.size()) {
                        addBatch(model, params, forgetBatches.get(i), padId, acc::addForget);
                    }
                    if (i < retainBatches.size()) {
                        addBatch(model, params, retainBatches.get(i), padId, acc::addRetain);
                    }
                }
            } finally {
                List<String> projectionWeights = projectionWeights(model, null);
                previous.forEach((name, had) -> {
                    if (had) {
                        return;
                    }
                    if (projectionWeights.contains(name)) {
                        model.releaseGradient(name);
                    } else { // a norm or embedding asked for by name: zeroed, its buffer kept
                        NDArray p = params.get(name);
                        Gradients.zero(List.of(p));
                        p.setRequiresGradient(false);
                    }
                });
                frozen.forEach(p -> p.setRequiresGradient(true));
            }
            Map<String, String> meta = new TreeMap<>(metadata == null ? Map.of() : metadata);
            meta.put(KEY_ROTARY_LAYOUT, model.rotaryLayout().name());
            meta.put(KEY_BATCH_SIZE, Integer.toString(batchSize));
            return acc.finish(meta);
        }
    }

    /**
     * The weight names of the model's linear projections of the given kinds (every projection when {@code kinds} is
     * null or empty), in the model's order.
     */
    public static List<String> projectionWeights(CausalLm model, List<String> kinds) {
        List<String> out = new ArrayList<>();
        for (LinearProjection p : model.linearProjections()) {
            if (kinds == null || kinds.isEmpty() || kinds.contains(p.kind())) {
                out.add(p.weightName());
            }
        }
        return out;
    }

    /** Where one side's micro-batch gradients go: {@link FisherAccumulator#addForget} or {@code addRetain}. */
    @FunctionalInterface
    private interface GradientSink {
        void add(Map<String, NDArray> gradients, long labelTokens);
    }

    /** One micro-batch of one side: its gradients into {@code sink}, then released for the next backward. */
    private static void addBatch(CausalLm model, Map<String, NDArray> params, List<EncodedExample> batch, int padId,
                                 GradientSink sink) throws InterruptedException {
        checkInterrupted();
        Map<String, NDArray> g = batchGradients(model, params, batch, padId);
        try {
            sink.add(g, labelTokens(batch));
        } finally {
            release(g, params);
        }
    }

    /** Gradients of the batch's mean NLL for every named weight (fresh handles the accumulator closes). */
    private static Map<String, NDArray> batchGradients(CausalLm model, Map<String, NDArray> params,
                                                      List<EncodedExample> examples, int padId) {
        TokenBatch batch = ModelBatches.of(examples, padId);
        if (batch.targetCount() == 0) {
            throw new IllegalArgumentException("a Fisher micro-batch has no label token (lines "
                    + examples.get(0).lineNumber() + "..)");
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                NDManager scope = model.manager().newSubManager()) {
            model.backward(gc, model.meanNll(scope, batch));
        }
        return Gradients.of(params);
    }

    /** Closes the gradient handles and zeroes the gradients: libtorch adds into {@code .grad} on every backward. */
    private static void release(Map<String, NDArray> gradients, Map<String, NDArray> params) {
        gradients.values().forEach(NDArray::close);
        Gradients.zero(params.values());
    }

    private static long labelTokens(List<EncodedExample> examples) {
        long n = 0;
        for (EncodedExample e : examples) {
            n += e.labelCount();
        }
        return n;
    }

    private static int padId(CausalLm model) {
        if (model.tokenizer() != null) {
            return model.tokenizer().padId();
        }
        return Math.max(model.config().padTokenId(), 0);
    }

    private static void checkInterrupted() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("the Fisher pass was interrupted");
        }
    }
}
