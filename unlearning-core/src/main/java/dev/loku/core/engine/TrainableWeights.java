package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** What an unlearning run updates: the full weights (rank 0) or LoRA factors (docs/method.md §2, §4 "r = 0"). */
interface TrainableWeights extends AutoCloseable {

    /** The tensors the optimiser updates, each requiring gradients. */
    Map<String, NDArray> parameters();

    /** Writes the model as it now computes (adapters merged) as a Hugging Face folder. */
    void writeModel(Path dir) throws IOException;

    /** Writes the adapter as a PEFT folder and returns it, or returns null when there is none. */
    Path writeAdapter(Path dir) throws IOException;

    /**
     * The frozen starting model for KL and NPO (docs/method.md §4), taken before the first step; the caller closes
     * it before this.
     */
    ReferenceModel reference();

    @Override
    void close();
}
