package dev.loku.core.model;

import java.util.HashMap;
import java.util.Map;

/**
 * A deliberately plain Llama forward pass in double precision with Java loops, one sequence at a time, written from
 * the architecture's definition: the independent computation the NDArray implementation is checked against.
 */
final class ReferenceLlama {
    private final LlamaConfig c;
    private final Map<String, float[]> w = new HashMap<>();
    private final double[] invFreq;

    ReferenceLlama(CausalLm model, double[] invFreq) {
        this.c = (LlamaConfig) model.config();
        model.parameters().forEach((name, array) -> w.put(name, array.toFloatArray()));
        this.invFreq = invFreq;
    }

    /** Unscaled rotary inverse frequencies theta^(-2i/d). */
    static double[] plainInvFreq(LlamaConfig c) {
        double[] inv = new double[c.headDim() / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
        }
        return inv;
    }

    /** Logits [T][V] for one unpadded sequence. */
    double[][] logits(int[] ids) {
        int t = ids.length;
        int d = c.hiddenSize();
        double[][] x = new double[t][d];
        float[] emb = w.get("model.embed_tokens.weight");
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < d; j++) {
                x[i][j] = emb[ids[i] * d + j];
            }
        }
        int heads = c.numHeads();
        int kvHeads = c.numKvHeads();
        int hd = c.headDim();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[t][];
            double[][] k = new double[t][];
            double[][] v = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] h = rmsNorm(x[i], w.get(p + "input_layernorm.weight"));
                q[i] = matVec(w.get(p + "self_attn.q_proj.weight"), h, heads * hd);
                k[i] = matVec(w.get(p + "self_attn.k_proj.weight"), h, kvHeads * hd);
                v[i] = matVec(w.get(p + "self_attn.v_proj.weight"), h, kvHeads * hd);
                rope(q[i], heads, i);
                rope(k[i], kvHeads, i);
            }
            for (int i = 0; i < t; i++) {
                double[] ctx = new double[heads * hd];
                for (int h = 0; h < heads; h++) {
                    int g = h / (heads / kvHeads);
                    double[] scores = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= i; s++) {
                        double dot = 0;
                        for (int e = 0; e < hd; e++) {
                            dot += q[i][h * hd + e] * k[s][g * hd + e];
                        }
                        scores[s] = dot / Math.sqrt(hd);
                        max = Math.max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= i; s++) {
                        scores[s] = Math.exp(scores[s] - max);
                        sum += scores[s];
                    }
                    for (int s = 0; s <= i; s++) {
                        for (int e = 0; e < hd; e++) {
                            ctx[h * hd + e] += scores[s] / sum * v[s][g * hd + e];
                        }
                    }
                }
                add(x[i], matVec(w.get(p + "self_attn.o_proj.weight"), ctx, d));
            }
            for (int i = 0; i < t; i++) {
                double[] h = rmsNorm(x[i], w.get(p + "post_attention_layernorm.weight"));
                double[] gate = matVec(w.get(p + "mlp.gate_proj.weight"), h, c.intermediateSize());
                double[] up = matVec(w.get(p + "mlp.up_proj.weight"), h, c.intermediateSize());
                for (int j = 0; j < gate.length; j++) {
                    gate[j] = gate[j] / (1 + Math.exp(-gate[j])) * up[j];
                }
                add(x[i], matVec(w.get(p + "mlp.down_proj.weight"), gate, d));
            }
        }
        float[] head = w.get(c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight");
        double[][] out = new double[t][];
        for (int i = 0; i < t; i++) {
            out[i] = matVec(head, rmsNorm(x[i], w.get("model.norm.weight")), c.vocabSize());
        }
        return out;
    }

    private void rope(double[] vec, int nHeads, int pos) {
        int hd = c.headDim();
        int half = hd / 2;
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < half; i++) {
                int a;
                int b;
                if (c.rotaryLayout() == RotaryLayout.INTERLEAVED) {
                    a = h * hd + 2 * i;
                    b = a + 1;
                } else {
                    a = h * hd + i;
                    b = a + half;
                }
                double angle = pos * invFreq[i];
                double va = vec[a];
                double vb = vec[b];
                vec[a] = va * Math.cos(angle) - vb * Math.sin(angle);
                vec[b] = va * Math.sin(angle) + vb * Math.cos(angle);
            }
        }
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1.0 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = weight[i] * x[i] * inv;
        }
        return out;
    }

    private static double[] matVec(float[] m, double[] x, int rows) {
        double[] out = new double[rows];
        int cols = x.length;
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < cols; j++) {
                s += m[r * cols + j] * x[j];
            }
            out[r] = s;
        }
        return out;
    }

    private static void add(double[] acc, double[] v) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += v[i];
        }
    }
}
