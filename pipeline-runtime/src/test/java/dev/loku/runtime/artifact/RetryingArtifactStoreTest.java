package dev.loku.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.ArtifactRef;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retrying store over a real {@link DirectoryArtifactStore} made unwritable the way a test can on any file system
 * and as any user: its {@code tmp/} folder replaced by a plain file, so every write fails with an I/O error until the
 * folder is back. The sleeper records the waits instead of sleeping, and may repair the store while "waiting".
 */
class RetryingArtifactStoreTest {

    private static final byte[] BYTES = "some artifact bytes".getBytes(StandardCharsets.UTF_8);

    private final List<Long> waits = new ArrayList<>();

    @Test
    void aWriteThatFailsForAWhileIsRetriedWithDoublingBackoffAndSucceeds(@TempDir Path dir) throws Exception {
        DirectoryArtifactStore directory = new DirectoryArtifactStore(dir.resolve("store"));
        Path tmp = directory.root().resolve("tmp");
        breakFolder(tmp);
        ArtifactStore store = new RetryingArtifactStore(directory, new ArtifactRetry(5, Duration.ofMillis(100)),
                millis -> {
                    waits.add(millis);
                    if (waits.size() == 3) {
                        repair(tmp);
                    }
                });
        ArtifactRef ref = store.put(BYTES);
        assertEquals(List.of(100L, 200L, 400L), waits, "three failed tries, each wait twice the one before");
        assertArrayEquals(BYTES, directory.read(ref));
    }

    @Test
    void aStoreThatStaysUnwritableIsUnavailableAfterTheLastAttemptWithTheStoresErrorAsCause(@TempDir Path dir)
            throws Exception {
        DirectoryArtifactStore directory = new DirectoryArtifactStore(dir.resolve("store"));
        breakFolder(directory.root().resolve("tmp"));
        ArtifactStore store = new RetryingArtifactStore(directory, new ArtifactRetry(3, Duration.ofMillis(50)),
                waits::add);
        ArtifactStoreUnavailableException e = assertThrows(ArtifactStoreUnavailableException.class,
                () -> store.put(BYTES));
        assertTrue(e.getCause() instanceof IOException cause && !RetryingArtifactStore.permanent(cause),
                String.valueOf(e.getCause()));
        assertTrue(e.getMessage().startsWith("the artifact store failed put 3 times in a row"), e.getMessage());
        assertTrue(ArtifactStoreUnavailableException.in(new RuntimeException(e)), "found in a wrapped cause");
        assertEquals(List.of(50L, 100L), waits, "3 tries, 2 waits");
    }

    @Test
    void missingAndCorruptArtifactsAreNotRetried(@TempDir Path dir) throws Exception {
        DirectoryArtifactStore directory = new DirectoryArtifactStore(dir.resolve("store"));
        ArtifactStore store = new RetryingArtifactStore(directory, new ArtifactRetry(5, Duration.ofMillis(50)),
                waits::add);
        ArtifactRef ref = directory.put(BYTES);
        Path blob = Path.of(java.net.URI.create(ref.getUri()));
        Files.write(blob, "tampered".getBytes(StandardCharsets.UTF_8));
        assertThrows(CorruptArtifactException.class, () -> store.read(ref));
        Files.delete(blob);
        assertThrows(ArtifactNotFoundException.class, () -> store.read(ref));
        assertThrows(ArtifactNotFoundException.class, () -> store.copyTo(ref, dir.resolve("copy")));
        assertEquals(List.of(), waits, "no retry for an answer a retry cannot change");
    }

    @Test
    void anInterruptEndsTheWaitAndTheOperation(@TempDir Path dir) throws Exception {
        DirectoryArtifactStore directory = new DirectoryArtifactStore(dir.resolve("store"));
        breakFolder(directory.root().resolve("tmp"));
        ArtifactStore store = new RetryingArtifactStore(directory, new ArtifactRetry(5, Duration.ofMillis(50)),
                millis -> {
                    throw new InterruptedException();
                });
        assertThrows(InterruptedIOException.class, () -> store.put(BYTES));
        assertTrue(Thread.interrupted(), "the interrupt is kept for the job's cancellation check");
    }

    @Test
    void oneAttemptTriesOnceAndStillSaysTheStoreIsUnavailableAndBackoffDoubles(@TempDir Path dir) throws Exception {
        DirectoryArtifactStore directory = new DirectoryArtifactStore(dir.resolve("store"));
        breakFolder(directory.root().resolve("tmp"));
        ArtifactStore once = new RetryingArtifactStore(directory, ArtifactRetry.NONE, waits::add);
        assertThrows(ArtifactStoreUnavailableException.class, () -> once.put(BYTES));
        assertEquals(List.of(), waits, "one try, no wait");
        ArtifactRetry retry = new ArtifactRetry(4, Duration.ofMillis(500));
        assertEquals(List.of(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2)),
                List.of(retry.waitAfter(1), retry.waitAfter(2), retry.waitAfter(3)));
        assertThrows(IllegalArgumentException.class, () -> new ArtifactRetry(0, Duration.ZERO));
    }

    /** Replaces {@code folder} by a plain file: creating anything inside it fails, whoever runs the test. */
    static void breakFolder(Path folder) throws IOException {
        Files.delete(folder);
        Files.writeString(folder, "not a folder");
    }

    static void repair(Path folder) {
        try {
            Files.delete(folder);
            Files.createDirectory(folder);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
