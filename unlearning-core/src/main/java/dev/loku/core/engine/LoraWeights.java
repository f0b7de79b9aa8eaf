package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.lora.LoraModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * LoRA factors as the trainable weights (docs/method.md §2.5): the base stays frozen. With FILA the base holds the
 * residual W − s·B₀A₀, so the PEFT adapter is only usable on that residual base (§8.6): it is written next to the
 * adapter and named as the adapter's base model; and the same result converted to a rank-2r adapter on the original
 * base is written beside them ({@value #PORTABLE_ADAPTER}).
 */
final class LoraWeights implements TrainableWeights {

    /** The sibling folder of the adapter with FILA's result as an adapter on the original base (§8.6). */
    static final String PORTABLE_ADAPTER = "adapter-portable";
    /** The sibling folder of the adapter with FILA's residual base, which that adapter applies to (§8.6). */
    static final String RESIDUAL_BASE = "residual-base";

    private final LoraModel lora;
    private final boolean fila;
    private final String baseModel;

    /**
     * @param baseModel what {@code base_model_name_or_path} names in an adapter on the original base: the adapter
     *     without FILA, the portable one with it
     */
    LoraWeights(LoraModel lora, boolean fila, String baseModel) {
        this.lora = lora;
        this.fila = fila;
        this.baseModel = baseModel;
    }

    @Override
    public Map<String, NDArray> parameters() {
        return lora.trainableParameters();
    }

    @Override
    public void writeModel(Path dir) throws IOException {
        lora.exportMerged(dir);
    }

    /**
     * Writes {@code dir} (PEFT) and, with FILA, the residual base as {@code dir}/../residual-base and the adapter on
     * the original base as {@code dir}/../adapter-portable.
     */
    @Override
    public Path writeAdapter(Path dir) throws IOException {
        String base = baseModel;
        if (fila) {
            Path residual = dir.resolveSibling(RESIDUAL_BASE);
            Files.createDirectories(residual);
            lora.exportBase(residual);
            base = residual.toAbsolutePath().toString();
            lora.savePortablePeft(dir.resolveSibling(PORTABLE_ADAPTER), baseModel);
        }
        Files.createDirectories(dir);
        lora.savePeft(dir, base);
        return dir;
    }

    /**
     * The same model with the adapters at their starting point, no second copy of the weights: without FILA the
     * adapters switched off (B₀ = 0), with FILA the residual base plus s·B₀A₀ (docs/method.md §2.4, §4).
     */
    @Override
    public ReferenceModel reference() {
        return new ReferenceModel() {
            @Override
            public NDArray logits(NDManager scope, TokenBatch batch) {
                return lora.startingLogits(scope, batch);
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void close() {
        lora.close();
    }
}
