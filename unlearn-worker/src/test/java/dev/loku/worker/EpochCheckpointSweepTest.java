package dev.loku.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sweep of epoch checkpoints that no worker will finish, on real folders with set modification times. */
class EpochCheckpointSweepTest {

    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
    private static final Duration RETENTION = Duration.ofDays(7);

    @TempDir
    Path root;

    @Test
    void aJobFolderUnwrittenForLongerThanTheRetentionIsDeletedAndTheOthersStay() throws IOException {
        Path abandoned = job("abandoned", NOW.minus(Duration.ofDays(8)));
        Path running = job("running", NOW.minus(Duration.ofHours(2)));
        Path justInside = job("just-inside", NOW.minus(RETENTION).plusSeconds(60));
        // Old files, but the job wrote its latest epoch an hour ago: it is alive.
        Path resumed = job("resumed", NOW.minus(Duration.ofDays(30)));
        touch(Files.writeString(resumed.resolve("epoch-0009.json"), "{}"), NOW.minus(Duration.ofHours(1)));

        List<Path> deleted = EpochCheckpointSweep.sweep(root, RETENTION, NOW, null);

        assertEquals(List.of(abandoned), deleted);
        assertFalse(Files.exists(abandoned));
        assertTrue(Files.isDirectory(running) && Files.isDirectory(justInside) && Files.isDirectory(resumed));
        assertTrue(Files.exists(running.resolve("epoch-0001.safetensors")), "a kept folder keeps its files");
    }

    @Test
    void theJobAboutToRunIsKeptHoweverOldItsCheckpointIs() throws IOException {
        Path mine = job("mine", NOW.minus(Duration.ofDays(40)));
        Path other = job("other", NOW.minus(Duration.ofDays(40)));
        assertEquals(List.of(other), EpochCheckpointSweep.sweep(root, RETENTION, NOW, mine));
        assertTrue(Files.isDirectory(mine));
    }

    @Test
    void aMissingFolderSweepsNothing() {
        assertEquals(List.of(), EpochCheckpointSweep.sweep(root.resolve("never-made"), RETENTION, NOW, null));
    }

    /** A job folder holding a checkpoint pair, every file and the folder last modified at {@code when}. */
    private Path job(String name, Instant when) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Files.write(dir.resolve("epoch-0001.safetensors"), new byte[64]);
        Files.writeString(dir.resolve("epoch-0001.json"), "{}");
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                touch(p, when);
            }
        }
        return dir;
    }

    private static Path touch(Path p, Instant when) throws IOException {
        Files.setLastModifiedTime(p, FileTime.from(when));
        return p;
    }
}
