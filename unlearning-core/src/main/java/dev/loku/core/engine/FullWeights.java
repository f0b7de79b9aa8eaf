package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.HfExporter;
import java.nio.file.Path;
import java.util.Map;

/** Rank 0: every weight of the model trains, as in Jang et al.'s full-model unlearning (docs/method.md §3.2, §4). */
final class FullWeights implements TrainableWeights {

    private final CausalLm model;

    FullWeights(CausalLm model) {
        this.model = model;
        model.parameters().values().forEach(p -> p.setRequiresGradient(true));
    }

    @Override
    public Map<String, NDArray> parameters() {
        return model.parameters();
    }

    @Override
    public void writeModel(Path dir) {
        HfExporter.export(model, dir);
    }

    @Override
    public Path writeAdapter(Path dir) {
        return null;
    }

    /** Every weight trains, so the reference is a copy of them (one model's worth of memory). */
    @Override
    public ReferenceModel reference() {
        return ReferenceModel.copyOf(model);
    }

    @Override
    public void close() {
        model.parameters().values().forEach(p -> p.setRequiresGradient(false));
    }
}
