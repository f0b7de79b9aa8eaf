package dev.loku.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Phi block, as transformers' {@code PhiForCausalLM} computes it: per layer one LayerNorm {@code h = ln(x)}
 * feeds attention and MLP in parallel, {@code x += dense(attn(rope(q(h)), rope(k(h)), v(h))) + fc2(gelu_new(fc1(h)))},
 * with rotary embeddings on the first {@link PhiConfig#rotaryDim} dimensions of each head only; then a final
 * LayerNorm and a head with a bias. Every projection carries a bias.
 */
public final class PhiModel extends DecoderModel {
    private static final String[] KINDS = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
        "self_attn.dense", "mlp.fc1", "mlp.fc2"};

    private final PhiConfig config;
    private final Layer[] layers;
    private final NDArray embed;
    private final NDArray finalNormW;
    private final NDArray finalNormB;
    private final NDArray headW;
    private final NDArray headB;
    private final Rotary rotary;

    private record Layer(NDArray normW, NDArray normB, NDArray[] w, NDArray[] b, String[] modules) {}

    PhiModel(PhiConfig config, TextTokenizer tokenizer, boolean ownsTokenizer, Map<String, NDArray> weights,
             NDManager manager) {
        super(config, tokenizer, ownsTokenizer, weights, manager, projections(config));
        this.config = config;
        this.layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            String[] modules = new String[KINDS.length];
            NDArray[] w = new NDArray[KINDS.length];
            NDArray[] b = new NDArray[KINDS.length];
            for (int k = 0; k < KINDS.length; k++) {
                modules[k] = p + KINDS[k];
                w[k] = parameter(modules[k] + ".weight");
                b[k] = parameter(modules[k] + ".bias");
            }
            layers[i] = new Layer(parameter(p + "input_layernorm.weight"), parameter(p + "input_layernorm.bias"),
                    w, b, modules);
        }
        this.embed = parameter("model.embed_tokens.weight");
        this.finalNormW = parameter("model.final_layernorm.weight");
        this.finalNormB = parameter("model.final_layernorm.bias");
        this.headW = config.tieWordEmbeddings() ? embed : parameter("lm_head.weight");
        this.headB = parameter("lm_head.bias");
        this.rotary = new Rotary(manager, config.rotaryDim(), config.ropeTheta(), config.ropeScaling(),
                RotaryLayout.HALF, config.maxPositionEmbeddings());
    }

    private static List<LinearProjection> projections(PhiConfig config) {
        List<LinearProjection> out = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            for (String kind : KINDS) {
                out.add(projection(config, "model.layers." + i + "." + kind, i));
            }
        }
        return out;
    }

    @Override
    public PhiConfig config() {
        return config;
    }

    @Override
    NDArray trunk(Step step) {
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        double scale = 1.0 / Math.sqrt(config.headDim());
        Rotary.Angles angles = rotary.angles(step.positions, step.maxPosition);
        NDArray x = Embedding.embedding(step.ids, embed, SparseFormat.DENSE).singletonOrThrow();
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            NDArray h = GptNeoModel.layerNorm(x, layer.normW(), layer.normB(), config.layerNormEps());
            NDArray q = rotary.apply(heads(proj(layer, 0, h), step.b, step.t, heads), angles);
            NDArray k = rotary.apply(heads(proj(layer, 1, h), step.b, step.t, kvHeads), angles);
            NDArray v = heads(proj(layer, 2, h), step.b, step.t, kvHeads);
            NDArray attention = proj(layer, 3, step.attend(l, q, k, v, scale));
            NDArray mlp = proj(layer, 5, GptNeoModel.geluNew(proj(layer, 4, h)));
            x = attention.add(mlp).add(x);
        }
        return x;
    }

    @Override
    NDArray head(NDArray hidden) {
        NDArray h = GptNeoModel.layerNorm(hidden, finalNormW, finalNormB, config.layerNormEps());
        return Linear.linear(h, headW, headB).singletonOrThrow();
    }

    private NDArray proj(Layer layer, int k, NDArray x) {
        return project(x, layer.w()[k], layer.b()[k], layer.modules()[k]);
    }

    @Override
    DecoderModel withWeights(Map<String, NDArray> weights, NDManager manager) {
        return new PhiModel(config, tokenizer(), false, weights, manager);
    }
}
