package dev.loku.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.loku.core.data.SyntheticPersons;
import dev.loku.core.testing.NativeMemoryPressure;
import dev.loku.core.testing.ProjectFiles;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Identical seeded runs give identical bytes, also while another thread keeps the garbage collector and the
 * direct-memory allocator busy ({@link NativeMemoryPressure}). Guards against arrays whose memory is a Java buffer
 * that the collector can free while libtorch still reads it (see {@code dev.loku.core.tensor.Tensors}): the
 * fine-tune, the Fisher pass and a LoRA step (FILA, inverted hinge loss, Adam) each run several times, the first
 * without pressure, and every result must equal the first bit for bit.
 */
class NativeMemoryStressTest {


    @TempDir
    static Path dir;

    private static final UnlearningEngine ENGINE = new UnlearningEngine(Device.cpu());
    private static Path train;
    private static Path forget;
    private static Path retain;
    private static Path unseen;

    @BeforeAll
    static void records() throws Exception {
        List<SyntheticPersons.Person> people = SyntheticPersons.generate(21, 10);
        train = dir.resolve("train.jsonl");
        EngineTuningBench.writePersons(train, people.subList(0, 8));
        forget = dir.resolve("forget.jsonl");
        EngineTuningBench.writePersons(forget, people.subList(0, 2));
        retain = dir.resolve("retain.jsonl");
        EngineTuningBench.writePersons(retain, people.subList(2, 8));
        unseen = dir.resolve("unseen.jsonl");
        EngineTuningBench.writePersons(unseen, people.subList(8, 10));
    }

    @Test
    void theFinetuneGivesTheSameWeightsUnderMemoryPressure() throws Exception {
        FinetuneSettings settings = new FinetuneSettings(8, 1e-2, 4, 5);
        String first = null;
        for (int run = 0; run < 6; run++) {
            Path out = dir.resolve("finetuned-" + run);
            try (NativeMemoryPressure pressure = run == 0 ? null : NativeMemoryPressure.start()) {
                FinetuneResult r = ENGINE.finetune(ProjectFiles.stories260K(), train, settings, out, e -> { });
                assertTrue(Double.isFinite(r.finalLoss()), "run " + run + " loss " + r.finalLoss());
                assertPressured(pressure);
            }
            String hash = ContentHash.of(out.resolve("model.safetensors"));
            if (first == null) {
                first = hash;
            }
            assertEquals(first, hash, "fine-tuned weights of run " + run + " differ from run 0");
        }
    }

    @Test
    void theFisherPassGivesTheSameImportanceUnderMemoryPressure() throws Exception {
        String first = null;
        for (int run = 0; run < 8; run++) {
            Path out = dir.resolve("importance-" + run + ".safetensors");
            try (NativeMemoryPressure pressure = run == 0 ? null : NativeMemoryPressure.start()) {
                ENGINE.estimateImportance(ProjectFiles.stories260K(), forget, retain, null, 3, out);
                assertPressured(pressure);
            }
            String hash = ContentHash.of(out);
            if (first == null) {
                first = hash;
            }
            assertEquals(first, hash, "importance of run " + run + " differs from run 0");
        }
    }

    @Test
    void aLoraStepGivesTheSameAdapterUnderMemoryPressure() throws Exception {
        // One epoch = one Adam step over the forget set, from a FILA start computed in the same call.
        UnlearnSettings settings = UnlearnSettings.loku().withLoraRank(4).withMaxEpochs(1).withLearningRate(1e-2);
        String first = null;
        for (int run = 0; run < 3; run++) {
            Path out = dir.resolve("unlearned-" + run);
            try (NativeMemoryPressure pressure = run == 0 ? null : NativeMemoryPressure.start()) {
                ENGINE.unlearn(ProjectFiles.stories260K(), new RecordSets(forget, retain, unseen), null, settings,
                        out, EpochListener.none());
                assertPressured(pressure);
            }
            // adapter_config.json names this run's own residual-base folder, so compare the tensors only.
            String hash = ContentHash.of(out.resolve("adapter/adapter_model.safetensors")) + " "
                    + ContentHash.of(out.resolve("model"));
            if (first == null) {
                first = hash;
            }
            assertEquals(first, hash, "adapter or merged model of run " + run + " differs from run 0");
        }
    }

    private static void assertPressured(NativeMemoryPressure pressure) {
        if (pressure != null) {
            assertTrue(pressure.collections() > 0, "the pressure thread never asked for a collection");
        }
    }
}
