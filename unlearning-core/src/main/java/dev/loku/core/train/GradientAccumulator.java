package dev.loku.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.tensor.TensorScope;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gradient accumulation as the HF Trainer does it (docs/method.md §3.1): each of the n micro-batch gradients is scaled
 * by 1/n and summed, so an optimiser step sees the mean of n micro-batch gradients (each of which is already a
 * token mean), not a token mean over all the micro-batches jointly. Sums are fp32, in a manager owned by the
 * accumulator. A caller that weights its micro-batches otherwise puts the weights in the losses and adds with scale 1
 * ({@link #add(Map, float)}).
 *
 * <p>Typical use per micro-batch: backward, {@link #add}, then {@link Gradients#zero} on the parameters (the
 * PyTorch engine accumulates into {@code .grad} otherwise).
 */
public final class GradientAccumulator implements AutoCloseable {

    private final NDManager manager;
    private final int microBatches;
    private final Map<String, NDArray> sums = new LinkedHashMap<>();
    private int added;

    public GradientAccumulator(NDManager parent, int microBatches) {
        if (microBatches < 1) {
            throw new IllegalArgumentException("accumulation needs at least 1 micro-batch, got " + microBatches);
        }
        this.manager = parent.newSubManager();
        this.microBatches = microBatches;
    }

    public int microBatches() {
        return microBatches;
    }

    /** Micro-batches added since the last {@link #reset}. */
    public int added() {
        return added;
    }

    /** True once n micro-batches have been added: time for an optimiser step. */
    public boolean ready() {
        return added >= microBatches;
    }

    /** Adds {@code gradient / n} for every name. The arrays passed in are only read. */
    public void add(Map<String, NDArray> gradients) {
        add(gradients, 1f / microBatches);
    }

    /**
     * Adds {@code gradient · scale} for every name: 1 for gradients whose micro-batch weight is already in the loss
     * they came from (token-weighted micro-batches). The arrays passed in are only read.
     */
    public void add(Map<String, NDArray> gradients, float scale) {
        if (added >= microBatches) {
            throw new IllegalStateException("already holds " + microBatches + " micro-batches; step and reset first");
        }
        for (Map.Entry<String, NDArray> e : gradients.entrySet()) {
            // Created outside the scope below, which would otherwise close the persistent sum with it.
            NDArray sum = sums.computeIfAbsent(e.getKey(),
                    n -> manager.zeros(e.getValue().getShape(), DataType.FLOAT32));
            NDArray gradient = e.getValue();
            TensorScope.run(() -> sum.addi(gradient.toType(DataType.FLOAT32, false).mul(scale)));
        }
        added++;
    }

    /** The accumulated gradients (owned by this accumulator; valid until {@link #reset} or {@link #close}). */
    public Map<String, NDArray> gradients() {
        return Collections.unmodifiableMap(sums);
    }

    /** Zeros the sums for the next optimiser step. */
    public void reset() {
        for (NDArray sum : sums.values()) {
            Gradients.fillZero(sum);
        }
        added = 0;
    }

    @Override
    public void close() {
        manager.close();
        sums.clear();
    }
}
