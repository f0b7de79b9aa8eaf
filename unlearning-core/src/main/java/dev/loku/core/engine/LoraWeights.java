package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import dev.loku.core.lora.LoraModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * LoRA factors as the trainable weights (docs/method.md §2.5): the base stays frozen. With FILA the base holds the
 * residual W − s·B₀A₀, so the PEFT adapter is only usable on that residual base (§8.6): it is written next to the
 * adapter and named as the adapter's base model.
 */
final class LoraWeights implements TrainableWeights {

    private final LoraModel lora;
    private final boolean fila;
    private final String baseModel;

    /**
     * @param baseModel what the adapter's {@code base_model_name_or_path} names when the base is unchanged (no FILA)
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

    /** Writes {@code dir} (PEFT) and, with FILA, the residual base as {@code dir}/../residual-base. */
    @Override
    public Path writeAdapter(Path dir) throws IOException {
        String base = baseModel;
        if (fila) {
            Path residual = dir.resolveSibling("residual-base");
            Files.createDirectories(residual);
            lora.exportBase(residual);
            base = residual.toAbsolutePath().toString();
        }
        Files.createDirectories(dir);
        lora.savePeft(dir, base);
        return dir;
    }

    @Override
    public void close() {
        lora.close();
    }
}
