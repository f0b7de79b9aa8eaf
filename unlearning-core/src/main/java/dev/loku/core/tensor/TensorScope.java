package dev.loku.core.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * An {@link NDScope} that nests: every array created while it is open is closed with it, except those passed to
 * {@link #keep}, which are handed to the enclosing scope (if any) when this one closes. Plain {@code NDScope}
 * only unregisters from the innermost scope, so a result returned from a nested helper would otherwise escape the
 * caller's scope and leak.
 *
 * <p>Only keep arrays created inside this scope; keeping one of the caller's inputs would make the enclosing scope
 * close it.
 */
public final class TensorScope implements AutoCloseable {

    private final NDScope scope = new NDScope();
    private final List<NDArray> kept = new ArrayList<>();

    /** Runs {@code body} in a scope of its own: every array it creates is closed afterwards. */
    public static void run(Runnable body) {
        TensorScope scope = new TensorScope();
        try {
            body.run();
        } finally {
            scope.close();
        }
    }

    /**
     * Computes a plain Java value (a number, a Java array) in a scope of its own; every array created on the way
     * is closed. Not for returning NDArrays: use {@link #keep} for those.
     */
    public static <T> T call(Supplier<T> body) {
        TensorScope scope = new TensorScope();
        try {
            return body.get();
        } finally {
            scope.close();
        }
    }

    /** Keeps {@code array} alive past this scope and returns it. */
    public NDArray keep(NDArray array) {
        NDScope.unregister(array);
        kept.add(array);
        return array;
    }

    @Override
    public void close() {
        scope.close();
        for (NDArray array : kept) {
            NDScope.register(array);
        }
    }
}
