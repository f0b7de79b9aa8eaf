package dev.loku.core.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.loku.core.model.NoGrad;
import java.util.Map;
import java.util.Random;

/** Stands in for training in tests: LoRA starts with B = 0, under which the adapters change nothing. */
@SuppressWarnings("try") // NoGrad is a scope guard
public final class LoraPerturbation {

    private LoraPerturbation() {
    }

    /** Adds uniform noise in [-scale, scale) to every {@code lora_B} factor of {@code factors}, in place, seeded. */
    public static void perturbB(Map<String, NDArray> factors, float scale, long seed) {
        Random r = new Random(seed);
        try (NoGrad ignored = NoGrad.enter(); NDManager m = NDManager.newBaseManager()) {
            factors.forEach((name, b) -> {
                if (name.endsWith("lora_B.weight")) {
                    float[] v = b.toFloatArray();
                    for (int i = 0; i < v.length; i++) {
                        v[i] += (r.nextFloat() * 2 - 1) * scale;
                    }
                    b.set(new NDIndex("..."), m.create(v, b.getShape()));
                }
            });
        }
    }
}
