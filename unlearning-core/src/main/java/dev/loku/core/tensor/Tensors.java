package dev.loku.core.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * Arrays made from Java data, held in memory that libtorch owns. Every array the engine makes from Java values
 * (token ids, masks, weights read from a file, factors computed in Java) and every scalar that takes part in a
 * differentiable product goes through this class.
 *
 * <h2>Why</h2>
 * On the CPU, DJL's {@code NDManager.create(...)} does not copy: it wraps a Java direct buffer
 * ({@code torch::from_blob}), and the tensor's memory lives only as long as the Java {@code NDArray} object that
 * holds that buffer. libtorch's autograd keeps what a backward pass needs (the indices of an embedding lookup or a
 * gather, the mask of a product, the divisor of a quotient) after the forward's scope has closed those arrays. Once
 * closed, nothing keeps the buffer reachable, so a garbage collection between forward and backward frees memory
 * that backward then reads: garbage gradients, NaN weights, or "index 9187201950435737471 is out of bounds" with a
 * garbage index. DJL's own scalar operations have the same flaw: {@code x.mul(2f)} wraps the scalar, multiplies and
 * closes the scalar at once, and the product's backward reads it later. Which runs went wrong depended on when the
 * collector ran, so identical seeded runs sometimes diverged.
 *
 * <p>The copy here ({@code clone}, or {@code full} for scalars) is allocated by libtorch and reference-counted by
 * the autograd graph, so it lives exactly as long as anything reads it.
 */
public final class Tensors {

    private Tensors() {
    }

    /** int64 array of {@code shape} holding {@code data}. */
    public static NDArray of(NDManager manager, long[] data, Shape shape) {
        return owned(manager, LongBuffer.wrap(data), shape, DataType.INT64);
    }

    /** float32 array of {@code shape} holding {@code data}. */
    public static NDArray of(NDManager manager, float[] data, Shape shape) {
        return owned(manager, FloatBuffer.wrap(data), shape, DataType.FLOAT32);
    }

    /** float64 array of {@code shape} holding {@code data}. */
    public static NDArray of(NDManager manager, double[] data, Shape shape) {
        return owned(manager, DoubleBuffer.wrap(data), shape, DataType.FLOAT64);
    }

    /** 1-D int64 array holding {@code data}. */
    public static NDArray of(NDManager manager, long[] data) {
        return of(manager, data, new Shape(data.length));
    }

    /** 1-D float32 array holding {@code data}. */
    public static NDArray of(NDManager manager, float[] data) {
        return of(manager, data, new Shape(data.length));
    }

    /**
     * Array of {@code shape} and {@code type} holding the bytes of {@code data} (native byte order, as libtorch
     * expects them); the buffer may be reused or dropped once this returns.
     */
    public static NDArray of(NDManager manager, ByteBuffer data, Shape shape, DataType type) {
        return owned(manager, data, shape, type);
    }

    /** A 0-dimensional array holding {@code value}, of {@code like}'s type, in {@code like}'s manager. */
    public static NDArray scalar(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType());
    }

    /** {@code x · factor}, differentiable in {@code x}, with the factor held by libtorch (see the class comment). */
    public static NDArray times(NDArray x, double factor) {
        return x.mul(scalar(x, factor));
    }

    /** {@code x / divisor}, differentiable in {@code x}, with the divisor held by libtorch. */
    public static NDArray dividedBy(NDArray x, double divisor) {
        return x.div(scalar(x, divisor));
    }

    /**
     * {@code x} as {@code type}, differentiable: gradients flow back through the cast (in {@code x}'s type).
     * DJL's {@code toType} runs under libtorch's no-grad guard and so cuts the graph; this goes through a
     * cumulative product over an added axis of size 1 ({@code torch.cumprod(x, dim, dtype)}), which is the
     * identity in value and the cast in type, with autograd's ordinary backward. Returns {@code x} itself when it
     * already has that type.
     */
    public static NDArray cast(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        return JniUtils.cumProd((PtNDArray) x.expandDims(-1), -1, type).squeeze(-1);
    }

    /**
     * The softmax of {@code x} along {@code axis} computed in float32 whatever {@code x}'s type (libtorch widens the
     * input first), differentiable; the result is float32.
     */
    public static NDArray softmaxFloat32(NDArray x, int axis) {
        return JniUtils.softmax((PtNDArray) x, axis, DataType.FLOAT32);
    }

    /** {@link #softmaxFloat32}'s logarithm, computed the same way. */
    public static NDArray logSoftmaxFloat32(NDArray x, int axis) {
        return JniUtils.logSoftmax((PtNDArray) x, axis, DataType.FLOAT32);
    }

    private static NDArray owned(NDManager manager, Buffer data, Shape shape, DataType type) {
        try (NDArray wrapped = manager.create(data, shape, type)) {
            // duplicate() is torch's clone(): new storage allocated and owned by libtorch.
            return wrapped.duplicate();
        }
    }
}
