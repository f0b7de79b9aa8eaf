package dev.loku.core.model;

import java.util.Map;

/** The parameter entries every family's {@code parameterShapes()} is built from, with Hugging Face's names. */
final class ParameterShapes {
    private ParameterShapes() {}

    /** A linear layer's weight {@code [out, in]} and, with {@code bias}, its bias {@code [out]}. */
    static void linear(Map<String, long[]> shapes, String module, long out, long in, boolean bias) {
        shapes.put(module + ".weight", new long[] {out, in});
        if (bias) {
            shapes.put(module + ".bias", new long[] {out});
        }
    }

    /** A LayerNorm's scale and shift, {@code [size]} each. */
    static void layerNorm(Map<String, long[]> shapes, String module, long size) {
        shapes.put(module + ".weight", new long[] {size});
        shapes.put(module + ".bias", new long[] {size});
    }
}
