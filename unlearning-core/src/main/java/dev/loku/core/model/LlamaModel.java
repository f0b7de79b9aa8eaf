package dev.loku.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import dev.loku.core.tensor.Tensors;
import dev.loku.core.tokenizer.TextTokenizer;
import java.util.List;
import java.util.Map;

/**
 * The Llama block, which Mistral and Qwen2 share: per layer {@code x += o(attn(rope(q(n1(x))), rope(k(n1(x))),
 * v(n1(x))))}; {@code x += down(silu(gate(n2(x))) * up(n2(x)))}; then a final RMSNorm and the (possibly tied)
 * head. RMSNorm is {@code w * x / sqrt(mean(x²) + eps)}. Grouped-query attention shares each KV head among
 * {@code numHeads / numKvHeads} consecutive query heads. Projections carry biases where the config says (Llama's
 * {@code attention_bias}/{@code mlp_bias}, Qwen2's q/k/v), layers a sliding window where it says (Mistral, Qwen2).
 */
public final class LlamaModel extends DecoderModel {
    private static final String[] KINDS = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
        "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

    private final LlamaConfig config;
    private final Layer[] layers;
    private final NDArray embed;
    private final NDArray finalNorm;
    private final NDArray head;
    private final Rotary rotary;

    /** One layer's tensors; projection k is KINDS[k]. */
    private record Layer(NDArray inNorm, NDArray postNorm, LayerProjections projections) {}

    LlamaModel(LlamaConfig config, TextTokenizer tokenizer, boolean ownsTokenizer, Map<String, NDArray> weights,
               NDManager manager) {
        super(config, tokenizer, ownsTokenizer, weights, manager, projections(config, "model.layers.", KINDS));
        this.config = config;
        this.layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            layers[i] = new Layer(parameter(p + "input_layernorm.weight"),
                    parameter(p + "post_attention_layernorm.weight"), layerProjections(p, KINDS));
        }
        this.embed = parameter("model.embed_tokens.weight");
        this.finalNorm = parameter("model.norm.weight");
        this.head = config.tieWordEmbeddings() ? embed : parameter("lm_head.weight");
        this.rotary = new Rotary(manager, config.headDim(), config.ropeTheta(), config.ropeScaling(),
                config.rotaryLayout(), config.maxPositionEmbeddings());
    }

    /**
     * Wraps weights already created in {@code manager} (which the model then owns and closes). Names are Hugging
     * Face names; every name of {@link LlamaConfig#parameterShapes()} must be present with that shape.
     */
    public static LlamaModel of(LlamaConfig config, TextTokenizer tokenizer, Map<String, NDArray> weights,
                                NDManager manager) {
        return new LlamaModel(config, tokenizer, true, weights, manager);
    }

    /** {@link DecoderModel#randomInit} for a Llama-block config. */
    public static LlamaModel randomInit(LlamaConfig config, TextTokenizer tokenizer, long seed, Device device) {
        return (LlamaModel) DecoderModel.randomInit(config, tokenizer, seed, device);
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public RotaryLayout rotaryLayout() {
        return config.rotaryLayout();
    }

    /** q and k rows (weights, biases, B factors, importances) pair rotary dimensions by layout; nothing else does. */
    @Override
    public NDArray reorderRows(LinearProjection projection, NDArray rows, RotaryLayout from, RotaryLayout to) {
        int heads = switch (projection.kind()) {
            case "q_proj" -> config.numHeads();
            case "k_proj" -> config.numKvHeads();
            default -> 0;
        };
        if (heads == 0 || from == to) {
            return rows;
        }
        return from == RotaryLayout.INTERLEAVED ? RotaryLayout.interleavedToHalf(rows, heads)
                : RotaryLayout.halfToInterleaved(rows, heads);
    }

    @Override
    List<NDArray> embedWeights() {
        return List.of(embed);
    }

    @Override
    NDArray embed(Step step) {
        return Embedding.embedding(step.ids, embed, SparseFormat.DENSE).singletonOrThrow(); // [B, T, D]
    }

    @Override
    NDArray layer(Step step, int l, NDArray x) {
        float eps = (float) config.rmsNormEps();
        Rotary.Angles angles = step.shared(Rotary.Angles.class,
                () -> rotary.angles(step.positions, step.maxPosition, weightType()));
        Layer layer = layers[l];
        LayerProjections proj = layer.projections();
        NDArray h = rmsNorm(x, layer.inNorm(), eps);
        NDArray q = rotary.apply(heads(project(proj, 0, h), step.b, step.t, config.numHeads()), angles);
        NDArray k = rotary.apply(heads(project(proj, 1, h), step.b, step.t, config.numKvHeads()), angles);
        NDArray v = heads(project(proj, 2, h), step.b, step.t, config.numKvHeads());
        x = x.add(project(proj, 3, step.attend(l, q, k, v, 1.0 / Math.sqrt(config.headDim()))));

        NDArray h2 = rmsNorm(x, layer.postNorm(), eps);
        NDArray gate = project(proj, 4, h2);
        NDArray up = project(proj, 5, h2);
        return x.add(project(proj, 6, gate.mul(Activation.sigmoid(gate)).mul(up)));
    }

    @Override
    NDArray head(NDArray hidden) {
        return linear(rmsNorm(hidden, finalNorm, (float) config.rmsNormEps()), head, null);
    }


    /** In float32 whatever the weights' type, rounded back before the scale (as transformers' LlamaRMSNorm). */
    private static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
        if (x.getDataType() != DataType.FLOAT32) {
            NDArray wide = Tensors.cast(x, DataType.FLOAT32);
            NDArray rms = wide.square().mean(new int[] {-1}, true).add(Tensors.scalar(wide, eps)).sqrt();
            return Tensors.cast(wide.div(rms), x.getDataType()).mul(weight);
        }
        NDArray rms = x.square().mean(new int[] {-1}, true).add(Tensors.scalar(x, eps)).sqrt();
        return x.div(rms).mul(weight);
    }

    @Override
    DecoderModel withWeights(Map<String, NDArray> weights, NDManager manager) {
        return new LlamaModel(config, tokenizer(), false, weights, manager);
    }
}
