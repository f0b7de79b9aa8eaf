package dev.loku.core.model;

/**
 * Rotary frequency scaling from a Hugging Face config's {@code rope_scaling}: {@code linear} (position
 * interpolation) and {@code llama3} (Llama 3.1/3.2: long wavelengths divided by {@code factor}, short ones kept, a
 * smooth blend between). Other kinds are rejected at load.
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {

    public RopeScaling {
        if (!"linear".equals(type) && !"llama3".equals(type)) {
            throw new IllegalArgumentException("rope_scaling type '" + type + "' is not supported (linear, llama3)");
        }
        if (!(factor > 0)) {
            throw new IllegalArgumentException("rope_scaling factor must be positive, got " + factor);
        }
        if ("llama3".equals(type) && !(highFreqFactor > lowFreqFactor && originalMaxPositionEmbeddings > 0)) {
            throw new IllegalArgumentException("llama3 rope_scaling needs high_freq_factor > low_freq_factor and"
                    + " original_max_position_embeddings > 0");
        }
    }

    public static RopeScaling linear(double factor) {
        return new RopeScaling("linear", factor, 0, 0, 0);
    }

    /** Applies the scaling to the unscaled inverse frequencies {@code theta^(-2i/d)}. */
    double[] apply(double[] invFreq) {
        double[] out = invFreq.clone();
        if ("linear".equals(type)) {
            for (int i = 0; i < out.length; i++) {
                out[i] /= factor;
            }
            return out;
        }
        double lowWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
        double highWavelen = originalMaxPositionEmbeddings / highFreqFactor;
        for (int i = 0; i < out.length; i++) {
            double wavelen = 2 * Math.PI / invFreq[i];
            if (wavelen < highWavelen) {
                continue; // high frequencies are kept as trained
            }
            if (wavelen > lowWavelen) {
                out[i] = invFreq[i] / factor;
            } else {
                double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor)
                        / (highFreqFactor - lowFreqFactor);
                out[i] = (1 - smooth) * invFreq[i] / factor + smooth * invFreq[i];
            }
        }
        return out;
    }
}
