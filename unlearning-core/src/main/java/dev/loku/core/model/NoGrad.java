package dev.loku.core.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Switches libtorch's autograd recording off for a block and restores the previous mode. Grad mode is per thread
 * in libtorch and DJL only switches it off on the thread that loads the engine, so inference on any other thread
 * would otherwise record graphs for every weight that requires gradients. Use it around evaluation done while
 * some weights require gradients: {@code try (NoGrad ignored = NoGrad.enter()) { ... }}.
 */
public final class NoGrad implements AutoCloseable {
    private final boolean previous;

    private NoGrad(boolean previous) {
        this.previous = previous;
    }

    public static NoGrad enter() {
        // The JNI call needs libtorch loaded: in a fresh JVM nothing may have loaded the engine yet (cheap after).
        Engine.getEngine("PyTorch");
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        return new NoGrad(previous);
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
