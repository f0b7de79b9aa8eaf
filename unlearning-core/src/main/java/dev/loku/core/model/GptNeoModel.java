package dev.loku.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.LayerNorm;
import dev.loku.core.tensor.Tensors;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.List;
import java.util.Map;

/**
 * The GPT-Neo block, as transformers' {@code GPTNeoForCausalLM} computes it: token plus learned position
 * embeddings; per layer {@code x += out_proj(attn(q(ln_1(x)), k(ln_1(x)), v(ln_1(x))))} and
 * {@code x += c_proj(gelu_new(c_fc(ln_2(x))))}; a final LayerNorm and the tied head. Attention scores are NOT
 * divided by sqrt(head_dim) (GPT-Neo was trained without that scaling), and local layers see only the
 * {@code window_size} most recent tokens.
 */
public final class GptNeoModel extends DecoderModel {
    private static final String[] KINDS = {"attn.attention.q_proj", "attn.attention.k_proj", "attn.attention.v_proj",
        "attn.attention.out_proj", "mlp.c_fc", "mlp.c_proj"};

    private final GptNeoConfig config;
    private final Layer[] layers;
    private final NDArray wte;
    private final NDArray wpe;
    private final NDArray lnFw;
    private final NDArray lnFb;
    private final NDArray head;

    /** One layer's tensors; projection k is KINDS[k]. */
    private record Layer(NDArray ln1w, NDArray ln1b, NDArray ln2w, NDArray ln2b, LayerProjections projections) {}

    GptNeoModel(GptNeoConfig config, TextTokenizer tokenizer, boolean ownsTokenizer, Map<String, NDArray> weights,
                NDManager manager) {
        super(config, tokenizer, ownsTokenizer, weights, manager, projections(config, "transformer.h.", KINDS));
        this.config = config;
        this.layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "transformer.h." + i + ".";
            layers[i] = new Layer(parameter(p + "ln_1.weight"), parameter(p + "ln_1.bias"),
                    parameter(p + "ln_2.weight"), parameter(p + "ln_2.bias"), layerProjections(p, KINDS));
        }
        this.wte = parameter("transformer.wte.weight");
        this.wpe = parameter("transformer.wpe.weight");
        this.lnFw = parameter("transformer.ln_f.weight");
        this.lnFb = parameter("transformer.ln_f.bias");
        this.head = config.tieWordEmbeddings() ? wte : parameter("lm_head.weight");
    }

    @Override
    public GptNeoConfig config() {
        return config;
    }

    @Override
    long positionLimit() {
        return config.maxPositionEmbeddings();
    }

    @Override
    List<NDArray> embedWeights() {
        return List.of(wte, wpe);
    }

    @Override
    NDArray embed(Step step) {
        return Embedding.embedding(step.ids, wte, SparseFormat.DENSE).singletonOrThrow()
                .add(Embedding.embedding(step.positions, wpe, SparseFormat.DENSE).singletonOrThrow());
    }

    @Override
    NDArray layer(Step step, int l, NDArray x) {
        int heads = config.numHeads();
        Layer layer = layers[l];
        LayerProjections proj = layer.projections();
        NDArray h = layerNorm(x, layer.ln1w(), layer.ln1b());
        NDArray q = heads(project(proj, 0, h), step.b, step.t, heads);
        NDArray k = heads(project(proj, 1, h), step.b, step.t, heads);
        NDArray v = heads(project(proj, 2, h), step.b, step.t, heads);
        x = x.add(project(proj, 3, step.attend(l, q, k, v, 1.0)));
        NDArray h2 = layerNorm(x, layer.ln2w(), layer.ln2b());
        return x.add(project(proj, 5, geluNew(project(proj, 4, h2))));
    }

    @Override
    NDArray head(NDArray hidden) {
        return linear(layerNorm(hidden, lnFw, lnFb), head, null);
    }


    private NDArray layerNorm(NDArray x, NDArray weight, NDArray bias) {
        return layerNorm(x, weight, bias, config.layerNormEps());
    }

    static NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, double eps) {
        return LayerNorm.layerNorm(x, new Shape(x.getShape().get(x.getShape().dimension() - 1)), weight, bias,
                (float) eps).singletonOrThrow();
    }

    /** transformers' {@code NewGELUActivation}: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    static NDArray geluNew(NDArray x) {
        NDArray inner = Tensors.times(Tensors.times(x.mul(x).mul(x), 0.044715).add(x), Math.sqrt(2.0 / Math.PI));
        return Tensors.times(x.mul(inner.tanh().add(Tensors.scalar(x, 1.0))), 0.5);
    }

    @Override
    DecoderModel withWeights(Map<String, NDArray> weights, NDManager manager) {
        return new GptNeoModel(config, tokenizer(), false, weights, manager);
    }
}
