package dev.loku.core.fisher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.tensor.TensorScope;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Fisher pass's bookkeeping (docs/method.md §2.2, §8.3): for each micro-batch b of forget (or retain) data, with
 * g_b the gradient of that micro-batch's mean NLL and n_b its label-token count, add n_b · g_b ⊙ g_b to the fp32
 * sum of every named weight and n_b to the count. F/N is then a token-weighted average of squared <em>mini-batch</em>
 * gradients, a coarse empirical Fisher, exactly as the reference computes it (but in fp32 rather than bf16).
 *
 * <p>The caller runs the model, backpropagates the forget and the retain loss separately, hands the gradients here
 * and zeroes them before the next backward pass. One pass (one epoch) over the paired data set is the reference's
 * recipe.
 */
public final class FisherAccumulator implements AutoCloseable {

    private final NDManager manager;
    private final Map<String, NDArray> forget = new LinkedHashMap<>();
    private final Map<String, NDArray> retain = new LinkedHashMap<>();
    private long forgetCount;
    private long retainCount;
    private boolean finished;

    public FisherAccumulator(NDManager parent) {
        this.manager = parent.newSubManager();
    }

    /**
     * n_b for a micro-batch: labels ≠ −100 counted on the <em>unshifted</em> labels, as the reference does. With
     * position 0 always a prompt or BOS token this equals the number of predicted tokens (§2.2 step 3).
     */
    public static long labelTokenCount(NDArray labels) {
        return TensorScope.call(
                () -> labels.neq(CausalLmLoss.IGNORE_INDEX).sum().toType(DataType.INT64, false).getLong());
    }

    /** Adds one forget micro-batch: F_f += n_b · g ⊙ g per name, N_f += n_b. */
    public void addForget(Map<String, NDArray> gradients, long labelTokens) {
        forgetCount += add(forget, gradients, labelTokens);
    }

    /** Adds one retain micro-batch: F_r += n_b · g ⊙ g per name, N_r += n_b. */
    public void addRetain(Map<String, NDArray> gradients, long labelTokens) {
        retainCount += add(retain, gradients, labelTokens);
    }

    public long forgetCount() {
        return forgetCount;
    }

    public long retainCount() {
        return retainCount;
    }

    private long add(Map<String, NDArray> sums, Map<String, NDArray> gradients, long n) {
        if (finished) {
            throw new IllegalStateException("this accumulator has already produced its result");
        }
        if (n < 0) {
            throw new IllegalArgumentException("label-token count must be >= 0, got " + n);
        }
        for (Map.Entry<String, NDArray> e : gradients.entrySet()) {
            // The persistent sum is created outside the scope, which closes everything created inside it.
            NDArray sum = sums.computeIfAbsent(e.getKey(),
                    name -> manager.zeros(e.getValue().getShape(), DataType.FLOAT32));
            if (!sum.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException("gradient of " + e.getKey() + " has shape "
                        + e.getValue().getShape() + ", earlier ones had " + sum.getShape());
            }
            NDArray gradient = e.getValue();
            TensorScope.run(() -> sum.addi(gradient.toType(DataType.FLOAT32, false).square().mul((float) n)));
        }
        return n;
    }

    /**
     * Hands the sums over to a {@link FisherImportance}, which then owns them; this accumulator is spent.
     *
     * @param metadata provenance to store with the tensors, e.g. {@link FisherImportance#MODEL_SHA256} and
     *     {@link FisherImportance#FORGET_SHA256}
     * @throws IllegalStateException if forget and retain saw different weights, or either saw no token
     */
    public FisherImportance finish(Map<String, String> metadata) {
        if (finished) {
            throw new IllegalStateException("this accumulator has already produced its result");
        }
        if (!forget.keySet().equals(retain.keySet())) {
            throw new IllegalStateException("forget and retain passes covered different weights: "
                    + forget.keySet() + " vs " + retain.keySet());
        }
        if (forgetCount == 0 || retainCount == 0) {
            throw new IllegalStateException("the Fisher pass saw no label token on the "
                    + (forgetCount == 0 ? "forget" : "retain") + " side");
        }
        finished = true;
        return new FisherImportance(manager, forget, retain, forgetCount, retainCount, metadata);
    }

    /** Releases the sums unless {@link #finish} handed them over. */
    @Override
    public void close() {
        if (!finished) {
            manager.close();
        }
    }
}
