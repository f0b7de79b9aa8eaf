package dev.loku.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.loku.core.tensor.TensorScope;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reading and clearing the gradients the PyTorch engine leaves on parameters. */
public final class Gradients {

    private Gradients() {
    }

    /**
     * The gradient of every named parameter. Each is a fresh handle on the parameter's {@code .grad}, attached to
     * the parameter's manager; close them (or read them inside a scope) once used.
     */
    public static Map<String, NDArray> of(Map<String, NDArray> parameters) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        parameters.forEach((name, p) -> out.put(name, p.getGradient()));
        return out;
    }

    /**
     * Sets every parameter's gradient to 0. Required after each backward pass: the engine adds into {@code .grad}
     * instead of replacing it. Filling (rather than subtracting the gradient from itself) also clears NaN/inf.
     */
    public static void zero(Collection<NDArray> parameters) {
        for (NDArray p : parameters) {
            try (NDArray g = p.getGradient()) {
                fillZero(g);
            }
        }
    }

    static void fillZero(NDArray array) {
        // set(index, value) materialises the value as a scalar array in the target's manager; the scope closes it.
        TensorScope.run(() -> array.set(new NDIndex("..."), 0f));
    }
}
