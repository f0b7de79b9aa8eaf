package dev.loku.core.engine;

import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.InvalidDataException;
import dev.loku.core.data.JsonlRecords;
import dev.loku.core.data.QaRecord;
import dev.loku.core.data.TrainingRecord;
import dev.loku.core.model.CausalLm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Reads a JSONL record file and encodes it for a model (docs/method.md §7): at most 500 tokens or the model's context. */
final class RecordFiles {

    private RecordFiles() {
    }

    static ExampleEncoder encoderFor(CausalLm model) {
        if (model.tokenizer() == null) {
            throw new IllegalArgumentException("the model has no tokenizer, so records cannot be encoded for it");
        }
        int maxLength = Math.min(ExampleEncoder.DEFAULT_MAX_LENGTH, model.config().maxPositionEmbeddings());
        return new ExampleEncoder(model.tokenizer(), maxLength);
    }

    /**
     * @throws InvalidDataException naming the file (and line) when it holds no record or a record that cannot be used
     */
    static List<EncodedExample> read(CausalLm model, Path file) throws IOException {
        List<TrainingRecord> records = JsonlRecords.read(file);
        if (records.isEmpty()) {
            throw new InvalidDataException(file.toString(), 0, "the file holds no record");
        }
        return encoderFor(model).encodeAll(records, file.toString());
    }

    /**
     * The question/answer records of {@code file} with each answer replaced by a refusal drawn at random (seeded) from
     * {@code refusals}: what the idk method trains on (docs/method.md §4).
     *
     * @throws InvalidDataException naming the file and line of a record that is not a question/answer pair
     */
    static List<EncodedExample> readWithRefusals(CausalLm model, Path file, List<String> refusals, long seed)
            throws IOException {
        Random random = new Random(seed);
        List<TrainingRecord> relabelled = new ArrayList<>();
        for (TrainingRecord r : JsonlRecords.read(file)) {
            if (!(r instanceof QaRecord qa)) {
                throw new InvalidDataException(file.toString(), r.lineNumber(), "the idk method trains questions"
                        + " towards refusals, so every forget record must be a question/answer pair");
            }
            relabelled.add(new QaRecord(qa.question(), refusals.get(random.nextInt(refusals.size())),
                    qa.lineNumber()));
        }
        return encoderFor(model).encodeAll(relabelled, file.toString());
    }
}
