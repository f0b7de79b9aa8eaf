package dev.loku.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.tensor.TensorScope;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * AdamW over named parameters, updating them in place (docs/method.md §3.1), in PyTorch's order:
 * <pre>
 *   p ← p · (1 − lr·wd)                       decoupled weight decay, before the moments
 *   m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 * The moments live in fp32 in a manager owned by this optimiser; close it when training ends. Each parameter keeps
 * its own step count t, so a parameter first seen later starts its bias correction afresh, as in PyTorch.
 *
 * <p>Call {@link #step} outside any gradient collector: in-place updates of leaf tensors that require gradients are
 * only legal with autograd recording off.
 */
public final class AdamW implements AutoCloseable {

    private final AdamWConfig config;
    private final NDManager stateManager;
    private final Map<String, State> states = new HashMap<>();

    private static final class State {
        final NDArray m;
        final NDArray v;
        int t;

        State(NDArray m, NDArray v) {
            this.m = m;
            this.v = v;
        }
    }

    public AdamW(AdamWConfig config, NDManager parent) {
        this.config = Objects.requireNonNull(config, "config");
        this.stateManager = parent.newSubManager();
    }

    public AdamWConfig config() {
        return config;
    }

    /**
     * One update of every parameter in {@code parameters} with the gradient of the same name.
     *
     * @throws IllegalArgumentException if a parameter has no gradient or a gradient of another shape
     */
    public void step(Map<String, NDArray> parameters, Map<String, NDArray> gradients, double learningRate) {
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            String name = e.getKey();
            NDArray gradient = gradients.get(name);
            if (gradient == null) {
                throw new IllegalArgumentException("no gradient for parameter " + name);
            }
            if (!gradient.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException("gradient of " + name + " has shape " + gradient.getShape()
                        + " but the parameter has " + e.getValue().getShape());
            }
            update(name, e.getValue(), gradient, learningRate);
        }
    }

    private void update(String name, NDArray param, NDArray gradient, double lr) {
        // State is created before the scope opens: the scope closes every array created inside it.
        State s = states.computeIfAbsent(name, n -> new State(
                stateManager.zeros(param.getShape(), DataType.FLOAT32),
                stateManager.zeros(param.getShape(), DataType.FLOAT32)));
        s.t++;
        int t = s.t;
        double b1 = config.beta1();
        double b2 = config.beta2();
        TensorScope.run(() -> {
            NDArray g = gradient.toType(DataType.FLOAT32, false);
            if (config.weightDecay() != 0) {
                param.muli((float) (1 - lr * config.weightDecay()));
            }
            s.m.muli((float) b1).addi(g.mul((float) (1 - b1)));
            s.v.muli((float) b2).addi(g.square().mul((float) (1 - b2)));
            double bias1 = 1 - Math.pow(b1, t);
            double bias2 = 1 - Math.pow(b2, t);
            NDArray denom = s.v.sqrt().div((float) Math.sqrt(bias2)).add((float) config.epsilon());
            NDArray delta = s.m.div(denom).mul((float) (lr / bias1));
            param.subi(delta.toType(param.getDataType(), false));
        });
    }

    /**
     * The state of parameter {@code name} (its two moments and step count), or null before its first update; the
     * arrays belong to this optimiser. With {@link #restore} this is what an epoch checkpoint keeps.
     */
    public Moments moments(String name) {
        State s = states.get(name);
        return s == null ? null : new Moments(s.m, s.v, s.t);
    }

    /**
     * Sets parameter {@code name}'s state to copies of {@code m} and {@code v} after {@code t} updates, as if those
     * updates had run here: the next {@link #step} continues where the saved optimiser stopped.
     */
    public void restore(String name, NDArray m, NDArray v, int t) {
        if (t < 1) {
            throw new IllegalArgumentException("a restored state has at least one update, not " + t);
        }
        if (!m.getShape().equals(v.getShape())) {
            throw new IllegalArgumentException("moments of " + name + " differ in shape: " + m.getShape() + " and "
                    + v.getShape());
        }
        State old = states.remove(name);
        if (old != null) {
            old.m.close();
            old.v.close();
        }
        State s = new State(stateManager.zeros(m.getShape(), DataType.FLOAT32),
                stateManager.zeros(v.getShape(), DataType.FLOAT32));
        s.m.addi(m.toType(DataType.FLOAT32, false));
        s.v.addi(v.toType(DataType.FLOAT32, false));
        s.t = t;
        states.put(name, s);
    }

    /** One parameter's optimiser state: first and second moments (fp32) and the number of updates. */
    public record Moments(NDArray m, NDArray v, int t) {}

    /** The number of updates parameter {@code name} has received. */
    public int steps(String name) {
        State s = states.get(name);
        return s == null ? 0 : s.t;
    }

    @Override
    public void close() {
        stateManager.close();
        states.clear();
    }
}
