package dev.loku.cli;

import ai.djl.Device;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.JsonlRecords;
import dev.loku.core.engine.RecordSetEvaluator;
import dev.loku.core.engine.RecordSetScores;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.ModelLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The experiment's scores that the unlearning runs do not report themselves: a model's MA and EL_10 on a record
 * file, and its mean NLL per token on the story texts (general language ability, untouched by any run). The
 * numbers come from the engine's own {@link RecordSetEvaluator} (docs/method.md §5.1), with records encoded as the
 * engine encodes them (BOS, no EOS label, at most 500 tokens or the model's context).
 */
final class ExperimentScoring {

    private final Device device;
    private final RecordSetEvaluator evaluator = new RecordSetEvaluator();

    ExperimentScoring(Device device) {
        this.device = device;
    }

    /** One model's scores on several files, loading the model once; EL_10 only where asked. */
    List<RecordSetScores> score(Path model, List<Path> files, List<Boolean> withExtraction)
            throws IOException, InterruptedException {
        try (CausalLm m = ModelLoader.load(model, device)) {
            int maxLength = Math.min(ExampleEncoder.DEFAULT_MAX_LENGTH, m.config().maxPositionEmbeddings());
            ExampleEncoder encoder = new ExampleEncoder(m.tokenizer(), maxLength);
            List<RecordSetScores> out = new java.util.ArrayList<>(files.size());
            for (int i = 0; i < files.size(); i++) {
                List<EncodedExample> examples = encoder.encodeAll(JsonlRecords.read(files.get(i)),
                        files.get(i).toString());
                out.add(evaluator.score(m, examples, withExtraction.get(i)));
            }
            return out;
        }
    }

    /** Mean NLL per predicted token (nats) of {@code model} on the texts in {@code stories}. */
    double storyNll(Path model, Path stories) throws IOException, InterruptedException {
        return score(model, List.of(stories), List.of(false)).get(0).nll();
    }
}
