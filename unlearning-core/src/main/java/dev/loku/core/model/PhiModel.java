package dev.loku.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import dev.loku.core.tokenizer.TextTokenizer;
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

    /** One layer's tensors; projection k is KINDS[k]. */
    private record Layer(NDArray normW, NDArray normB, LayerProjections projections) {}

    PhiModel(PhiConfig config, TextTokenizer tokenizer, boolean ownsTokenizer, Map<String, NDArray> weights,
             NDManager manager) {
        super(config, tokenizer, ownsTokenizer, weights, manager, projections(config, "model.layers.", KINDS));
        this.config = config;
        this.layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            layers[i] = new Layer(parameter(p + "input_layernorm.weight"), parameter(p + "input_layernorm.bias"),
                    layerProjections(p, KINDS));
        }
        this.embed = parameter("model.embed_tokens.weight");
        this.finalNormW = parameter("model.final_layernorm.weight");
        this.finalNormB = parameter("model.final_layernorm.bias");
        this.headW = config.tieWordEmbeddings() ? embed : parameter("lm_head.weight");
        this.headB = parameter("lm_head.bias");
        this.rotary = new Rotary(manager, config.rotaryDim(), config.ropeTheta(), config.ropeScaling(),
                RotaryLayout.HALF, config.maxPositionEmbeddings());
    }

    @Override
    public PhiConfig config() {
        return config;
    }

    @Override
    List<NDArray> embedWeights() {
        return List.of(embed);
    }

    @Override
    NDArray embed(Step step) {
        return Embedding.embedding(step.ids, embed, SparseFormat.DENSE).singletonOrThrow();
    }

    @Override
    NDArray layer(Step step, int l, NDArray x) {
        Rotary.Angles angles = step.shared(Rotary.Angles.class,
                () -> rotary.angles(step.positions, step.maxPosition, weightType()));
        Layer layer = layers[l];
        LayerProjections proj = layer.projections();
        NDArray h = GptNeoModel.layerNorm(x, layer.normW(), layer.normB(), config.layerNormEps());
        NDArray q = rotary.apply(heads(project(proj, 0, h), step.b, step.t, config.numHeads()), angles);
        NDArray k = rotary.apply(heads(project(proj, 1, h), step.b, step.t, config.numKvHeads()), angles);
        NDArray v = heads(project(proj, 2, h), step.b, step.t, config.numKvHeads());
        NDArray attention = project(proj, 3, step.attend(l, q, k, v, 1.0 / Math.sqrt(config.headDim())));
        NDArray mlp = project(proj, 5, GptNeoModel.geluNew(project(proj, 4, h)));
        return attention.add(mlp).add(x);
    }

    @Override
    NDArray head(NDArray hidden) {
        NDArray h = GptNeoModel.layerNorm(hidden, finalNormW, finalNormB, config.layerNormEps());
        return linear(h, headW, headB);
    }


    @Override
    DecoderModel withWeights(Map<String, NDArray> weights, NDManager manager) {
        return new PhiModel(config, tokenizer(), false, weights, manager);
    }
}
