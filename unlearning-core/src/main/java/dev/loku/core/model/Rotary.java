package dev.loku.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import dev.loku.core.tensor.Tensors;

/**
 * Rotary position embeddings on the first {@code dim} dimensions of each attention head (all of them for Llama,
 * {@code partial_rotary_factor} of them for Phi), pair i rotating by {@code position × theta^(-2i/dim)} (scaled by
 * {@link RopeScaling} when the config asks). The cos/sin tables live in the model's manager and grow when a longer
 * sequence arrives.
 *
 * <p>The frequencies and angles are computed in float32, the way transformers and llama2.c's run.c compute them,
 * so that logits agree with those references at every position.
 */
final class Rotary {
    private final NDManager manager;
    private final int dim;
    private final RotaryLayout layout;
    private final float[] invFreq;
    private volatile Tables tables;

    /** cos and sin of position × frequency, {@code [positions, dim/2]}. */
    private record Tables(int positions, NDArray cos, NDArray sin) {}

    /** The per-forward angles, {@code [B, 1, T, dim/2]} in the forward's scope. */
    record Angles(NDArray cos, NDArray sin) {}

    Rotary(NDManager manager, int dim, double theta, RopeScaling scaling, RotaryLayout layout, int positions) {
        this.manager = manager;
        this.dim = dim;
        this.layout = layout;
        int half = dim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / dim;
            inv[i] = 1.0f / (float) Math.pow(theta, exponent);
        }
        if (scaling != null) {
            inv = scaling.apply(inv);
        }
        this.invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = (float) inv[i];
        }
        this.tables = build(Math.max(positions, 1));
    }

    /**
     * Angles for {@code positions} (int64 {@code [B, T]}, largest value {@code maxPosition}), computed in float32
     * and given in {@code type}, the type of the heads they rotate (transformers rounds them the same way).
     */
    Angles angles(NDArray positions, long maxPosition, DataType type) {
        Tables t = tablesFor(maxPosition);
        NDArray cos = Embedding.embedding(positions, t.cos(), SparseFormat.DENSE).singletonOrThrow().expandDims(1);
        NDArray sin = Embedding.embedding(positions, t.sin(), SparseFormat.DENSE).singletonOrThrow().expandDims(1);
        if (type != DataType.FLOAT32) {
            cos = cos.toType(type, false);
            sin = sin.toType(type, false);
        }
        return new Angles(cos, sin);
    }

    /** Rotates the first {@code dim} dimensions of {@code x [B, H, T, hd]}; the rest pass through. */
    NDArray apply(NDArray x, Angles angles) {
        Shape shape = x.getShape();
        long hd = shape.get(3);
        NDArray rot = dim == hd ? x : x.get(new NDIndex(":, :, :, 0:{}", dim));
        NDArray rotated = rotate(rot, angles);
        return dim == hd ? rotated : rotated.concat(x.get(new NDIndex(":, :, :, {}:", dim)), 3);
    }

    private NDArray rotate(NDArray x, Angles angles) {
        Shape shape = x.getShape();
        int half = dim / 2;
        NDArray a;
        NDArray b;
        if (layout == RotaryLayout.INTERLEAVED) {
            NDArray pairs = x.reshape(shape.get(0), shape.get(1), shape.get(2), half, 2);
            a = pairs.get(new NDIndex(":, :, :, :, 0"));
            b = pairs.get(new NDIndex(":, :, :, :, 1"));
        } else {
            a = x.get(new NDIndex(":, :, :, 0:{}", half));
            b = x.get(new NDIndex(":, :, :, {}:", half));
        }
        NDArray ra = a.mul(angles.cos()).sub(b.mul(angles.sin()));
        NDArray rb = b.mul(angles.cos()).add(a.mul(angles.sin()));
        if (layout == RotaryLayout.INTERLEAVED) {
            return ra.expandDims(4).concat(rb.expandDims(4), 4).reshape(shape);
        }
        return ra.concat(rb, 3);
    }

    private Tables tablesFor(long maxPosition) {
        Tables t = tables;
        if (maxPosition < t.positions()) {
            return t;
        }
        synchronized (this) {
            if (maxPosition >= tables.positions()) {
                // The old tables stay in the model's manager: a concurrent forward may still be reading them.
                tables = build((int) Math.max(maxPosition + 1, 2L * tables.positions()));
            }
            return tables;
        }
    }

    private Tables build(int positions) {
        int half = dim / 2;
        float[] cos = new float[positions * half];
        float[] sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        Shape shape = new Shape(positions, half);
        return new Tables(positions, Tensors.of(manager, cos, shape), Tensors.of(manager, sin, shape));
    }
}
