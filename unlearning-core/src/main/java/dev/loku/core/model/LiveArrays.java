package dev.loku.core.model;

import ai.djl.ndarray.NDManager;

/**
 * Counts native arrays that are still open. DJL's managers form a tree under one system manager, and
 * {@link NDManager#getManagedArrays()} walks a manager's subtree, so the root's count is every tracked NDArray in
 * the JVM. Memory tests compare counts before and after many calls.
 */
public final class LiveArrays {
    private LiveArrays() {}

    /** Open arrays in the whole JVM (every manager descends from the engine's system manager). */
    public static int count() {
        try (NDManager probe = NDManager.newBaseManager()) {
            NDManager root = probe;
            while (root.getParentManager() != null) {
                root = root.getParentManager();
            }
            return root.getManagedArrays().size();
        }
    }

    /** Open arrays owned by {@code manager} and its sub-managers. */
    public static int count(NDManager manager) {
        return manager.getManagedArrays().size();
    }
}
