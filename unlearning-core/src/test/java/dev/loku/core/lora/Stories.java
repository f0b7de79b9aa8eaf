package dev.loku.core.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.JsonlRecords;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.testing.ProjectFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** stories260K and records of data/stories/stories.jsonl, encoded, for the LoRA and Fisher tests. */
@SuppressWarnings("try")
final class Stories {
    private Stories() {
    }

    static CausalLm model() {
        return ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
    }

    /** Records {@code from..to-1} of stories.jsonl, encoded with BOS and at most 64 tokens. */
    static List<EncodedExample> examples(CausalLm model, int from, int to) {
        try {
            var records = JsonlRecords.read(ProjectFiles.data("stories/stories.jsonl")).subList(from, to);
            return new ExampleEncoder(model.tokenizer(), 64).encodeAll(records, "stories.jsonl");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static TokenBatch batch(CausalLm model, List<EncodedExample> examples) {
        return ModelBatches.of(examples, model.tokenizer().padId());
    }

    /** All logits of the batch as a flat Java array (no graph recorded). */
    static float[] logits(CausalLm model, TokenBatch batch) {
        try (NoGrad ignored = NoGrad.enter(); NDManager m = model.manager().newSubManager()) {
            NDArray l = model.logits(m, batch);
            return l.toFloatArray();
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " vs " + b.length);
        }
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    static double maxAbs(float[] a) {
        double d = 0;
        for (float v : a) {
            d = Math.max(d, Math.abs(v));
        }
        return d;
    }
}
