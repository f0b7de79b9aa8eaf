package dev.loku.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.loku.core.data.SyntheticPersons;
import dev.loku.core.testing.ProjectFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped after an epoch and started again on its checkpoints goes on from the next epoch and ends exactly as
 * the run that was never stopped: the same epoch records, the same model and adapter bytes. A checkpoint of another
 * run, or one whose tensors were damaged, is not resumed.
 */
class EpochCheckpointsTest {

    @TempDir
    static Path dir;

    /** Stop-rule evaluation: each epoch measures only what the rule needs (the test compares the records anyway). */
    private static final UnlearningEngine ENGINE = new UnlearningEngine(Device.cpu())
            .withEpochEvaluation(EpochEvaluation.STOP_RULE);
    /** A slow rate, so that the stop rule does not end the run before the epochs the test needs. */
    private static final UnlearnSettings SETTINGS = UnlearnSettings.loku().withLoraRank(4).withMaxEpochs(4)
            .withLearningRate(2e-3);

    private static Path base;
    private static RecordSets sets;
    private static UnlearnResult uninterrupted;

    @BeforeAll
    static void memoriseAndRunOnce() throws Exception {
        List<SyntheticPersons.Person> people = SyntheticPersons.generate(11, 13);
        Path train = dir.resolve("train.jsonl");
        EngineTuningBench.writePersons(train, people.subList(0, 10));
        Path forget = dir.resolve("forget.jsonl");
        EngineTuningBench.writePersons(forget, people.subList(0, 3));
        Path retain = dir.resolve("retain.jsonl");
        EngineTuningBench.writePersons(retain, people.subList(3, 10));
        Path unseen = dir.resolve("unseen.jsonl");
        EngineTuningBench.writePersons(unseen, people.subList(10, 13));
        sets = new RecordSets(forget, retain, unseen);
        base = ENGINE.finetune(ProjectFiles.stories260K(), train, new FinetuneSettings(60, 1e-2, 10, 3),
                dir.resolve("finetuned"), e -> { }).modelDir();
        uninterrupted = ENGINE.unlearn(base, sets, null, SETTINGS, dir.resolve("uninterrupted"), null);
        assertTrue(uninterrupted.report().stoppedAtEpoch() >= 3,
                "the run trains at least 3 epochs (else nothing is resumed): " + uninterrupted.report().epochs());
    }

    /** Runs with checkpoints in {@code checkpoints}, interrupted right after trained epoch {@code stopAfter}. */
    private static void runAndStopAfter(int stopAfter, EpochCheckpoints checkpoints, String out) {
        assertThrows(InterruptedException.class, () -> ENGINE.unlearn(base, sets, null, SETTINGS, dir.resolve(out),
                e -> {
                    if (e.epoch() == stopAfter) {
                        Thread.currentThread().interrupt(); // as the job runner does when the partition moves
                    }
                }, null, checkpoints));
        Thread.interrupted();
    }

    @Test
    void aRunStoppedAfterEpochTwoResumesAtEpochThreeAndEndsAsTheUninterruptedRun() throws Exception {
        EpochCheckpoints checkpoints = EpochCheckpoints.in(dir.resolve("ckpt-resume"));
        runAndStopAfter(2, checkpoints, "stopped");
        assertTrue(Files.isRegularFile(checkpoints.dir().resolve("epoch-0002.json")));
        assertFalse(Files.exists(checkpoints.dir().resolve("epoch-0001.json")), "older checkpoints are deleted");

        List<Integer> heard = new ArrayList<>();
        UnlearnResult resumed = ENGINE.unlearn(base, sets, null, SETTINGS, dir.resolve("resumed"),
                e -> heard.add(e.epoch()), null, checkpoints);
        int last = uninterrupted.report().stoppedAtEpoch();
        List<Integer> expected = new ArrayList<>();
        for (int e = 3; e <= last; e++) {
            expected.add(e);
        }
        assertEquals(expected, heard, "only the epochs after the checkpoint are trained again");

        List<EpochRecord> a = uninterrupted.report().epochs();
        List<EpochRecord> b = resumed.report().epochs();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).epoch(), b.get(i).epoch());
            assertEquals(a.get(i).loss(), b.get(i).loss(), 0.0, "loss, epoch " + i);
            assertEquals(a.get(i).forgetMa(), b.get(i).forgetMa(), 0.0, "forget MA, epoch " + i);
            assertEquals(a.get(i).forgetEl10(), b.get(i).forgetEl10(), 0.0, "forget EL_10, epoch " + i);
            assertEquals(a.get(i).retainMa(), b.get(i).retainMa(), 0.0, "retain MA, epoch " + i);
        }
        assertEquals(uninterrupted.report().reachedThreshold(), resumed.report().reachedThreshold());
        assertArrayEquals(Files.readAllBytes(uninterrupted.modelDir().resolve("model.safetensors")),
                Files.readAllBytes(resumed.modelDir().resolve("model.safetensors")), "the same unlearned model");
        assertArrayEquals(Files.readAllBytes(uninterrupted.adapterDir().resolve("adapter_model.safetensors")),
                Files.readAllBytes(resumed.adapterDir().resolve("adapter_model.safetensors")), "the same adapter");

        checkpoints.delete();
        assertFalse(Files.exists(checkpoints.dir()));
    }

    @Test
    void aCheckpointOfAnotherRunOrWithDamagedTensorsIsNotResumed() throws Exception {
        EpochCheckpoints checkpoints = EpochCheckpoints.in(dir.resolve("ckpt-other"));
        runAndStopAfter(1, checkpoints, "stopped-other");

        List<Integer> heard = new ArrayList<>();
        ENGINE.unlearn(base, sets, null, SETTINGS.withSeed(SETTINGS.seed() + 1), dir.resolve("other-seed"),
                e -> heard.add(e.epoch()), null, checkpoints);
        assertEquals(0, heard.get(0), "another seed is another run: it starts at epoch 0");

        EpochCheckpoints damaged = EpochCheckpoints.in(dir.resolve("ckpt-damaged"));
        runAndStopAfter(1, damaged, "stopped-damaged");
        Path tensors = damaged.dir().resolve("epoch-0001.safetensors");
        byte[] bytes = Files.readAllBytes(tensors);
        bytes[bytes.length - 1] ^= 0x40;
        Files.write(tensors, bytes);
        heard.clear();
        UnlearnResult again = ENGINE.unlearn(base, sets, null, SETTINGS, dir.resolve("after-damage"),
                e -> heard.add(e.epoch()), null, damaged);
        assertEquals(0, heard.get(0), "a damaged checkpoint is skipped: the run starts at epoch 0");
        assertArrayEquals(Files.readAllBytes(uninterrupted.modelDir().resolve("model.safetensors")),
                Files.readAllBytes(again.modelDir().resolve("model.safetensors")), "and ends as the uninterrupted run");
    }
}
