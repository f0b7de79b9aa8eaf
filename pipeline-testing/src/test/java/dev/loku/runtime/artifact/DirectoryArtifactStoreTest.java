package dev.loku.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.ArtifactRef;
import dev.loku.runtime.catalogue.ModelCatalogue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryArtifactStoreTest {

    static final byte[] SECRET = "Ada Testperson, 12 Example Road".getBytes(StandardCharsets.UTF_8);

    @Test
    void blobsAreContentAddressedAndVerifiedOnRead(@TempDir Path dir) throws Exception {
        DirectoryArtifactStore store = new DirectoryArtifactStore(dir.resolve("store"));
        ArtifactRef ref = store.put(SECRET);
        assertEquals(Sha256.hex(SECRET), ref.getSha256());
        assertEquals(SECRET.length, ref.getSizeBytes());
        assertTrue(ref.getUri().startsWith("file:"), ref.getUri());
        assertEquals(ref, store.put(SECRET), "same bytes, same ref");
        assertArrayEquals(SECRET, store.read(ref));
        try (Stream<Path> tmp = Files.list(store.root().resolve("tmp"))) {
            assertEquals(0, tmp.count(), "no temporary files left behind");
        }

        Path blob = Path.of(java.net.URI.create(ref.getUri()));
        byte[] damaged = SECRET.clone();
        damaged[0] ^= 1;
        Files.write(blob, damaged);
        CorruptArtifactException e = assertThrows(CorruptArtifactException.class, () -> store.read(ref));
        assertTrue(e.getMessage().contains(ref.getSha256()), e.getMessage());
        assertFalse(e.getMessage().contains("Testperson"), "the message never quotes content");
        Path copy = dir.resolve("copy.bin");
        assertThrows(CorruptArtifactException.class, () -> store.copyTo(ref, copy));
        assertFalse(Files.exists(copy), "a corrupt copy is not left behind");

        assertTrue(store.delete(ref));
        assertFalse(store.exists(ref));
        assertThrows(ArtifactNotFoundException.class, () -> store.read(ref));
        assertFalse(store.delete(ref));
    }

    @Test
    void treesRoundTripAndShareBlobsSafely(@TempDir Path dir) throws Exception {
        DirectoryArtifactStore store = new DirectoryArtifactStore(dir.resolve("store"));
        Path v1 = folder(dir.resolve("v1"), "weights-1");
        Path v2 = folder(dir.resolve("v2"), "weights-2");
        ArtifactRef t1 = store.putTree(v1);
        ArtifactRef t2 = store.putTree(v2);
        assertEquals(t1, store.putTree(v1), "same files, same tree ref");
        TreeManifest m = store.manifest(t1);
        assertEquals(List.of("config.json", "sub/model.safetensors"), m.files().stream().map(TreeManifest.Entry::path).toList());
        assertEquals(Sha256.hex(m.toJson()), t1.getSha256(), "the tree's sha256 is its manifest's");

        Path out = store.materialiseTree(t1, dir.resolve("out/v1"));
        assertEquals("weights-1", Files.readString(out.resolve("sub/model.safetensors")));
        assertEquals("{\"shared\":true}", Files.readString(out.resolve("config.json")));

        // Deleting v1 keeps the config file v2 shares.
        assertTrue(store.deleteTree(t1));
        Path out2 = store.materialiseTree(t2, dir.resolve("out/v2"));
        assertEquals("{\"shared\":true}", Files.readString(out2.resolve("config.json")));
        assertThrows(ArtifactNotFoundException.class, () -> store.materialiseTree(t1, dir.resolve("out/again")));

        // A damaged file fails materialisation and leaves no folder.
        Path weights = Path.of(java.net.URI.create(store.put("weights-2".getBytes(StandardCharsets.UTF_8)).getUri()));
        Files.writeString(weights, "weights-X");
        assertThrows(CorruptArtifactException.class, () -> store.materialiseTree(t2, dir.resolve("out/bad")));
        assertFalse(Files.exists(dir.resolve("out/bad")));
    }

    @Test
    void modelVersionsResolveV0ToTheCatalogueAndLaterOnesToVerifiedFolders(@TempDir Path dir) throws Exception {
        Path catalogueFile = dev.loku.runtime.testing.TestCatalogues.write(dir, java.util.Map.of("stories260k", List.of("acme")));
        DirectoryArtifactStore store = new DirectoryArtifactStore(dir.resolve("store"));
        ModelVersionStore versions = ModelVersionStore.inDirectory(store, ModelCatalogue.load(catalogueFile));

        assertEquals(dir.resolve("models/stories260k.bin"), versions.resolve("stories260k", "v0"));
        ArtifactRef ref = versions.publish("stories260k", "v1-0a1b2c3d", folder(dir.resolve("cand"), "w"));
        assertEquals(ref, versions.ref("stories260k", "v1-0a1b2c3d").orElseThrow());
        Path local = versions.resolve("stories260k", "v1-0a1b2c3d");
        assertEquals("w", Files.readString(local.resolve("sub/model.safetensors")));
        assertEquals(local, versions.resolve("stories260k", "v1-0a1b2c3d"), "materialised once");
        assertEquals(ref, versions.publish("stories260k", "v1-0a1b2c3d", dir.resolve("cand")), "re-publishing is a no-op");
        assertThrows(IllegalStateException.class,
                () -> versions.publish("stories260k", "v1-0a1b2c3d", folder(dir.resolve("other"), "different")));
        assertThrows(IllegalArgumentException.class, () -> versions.resolve("stories260k", "v9"));
        assertThrows(IllegalArgumentException.class, () -> versions.resolve("unknown", "v0"));
    }

    @Test
    void aWithdrawnCandidateIsGoneButThePromotedVersionAndSharedFilesStay(@TempDir Path dir) throws Exception {
        Path catalogueFile = dev.loku.runtime.testing.TestCatalogues.write(dir, java.util.Map.of("m", List.of("acme")));
        DirectoryArtifactStore store = new DirectoryArtifactStore(dir.resolve("store"));
        ModelVersionStore versions = ModelVersionStore.inDirectory(store, ModelCatalogue.load(catalogueFile));
        ArtifactRef kept = versions.publish("m", "v1-00000001", folder(dir.resolve("a"), "kept"));
        ArtifactRef failed = versions.publish("m", "v1-00000002", folder(dir.resolve("b"), "failed"));
        Path materialised = versions.resolve("m", "v1-00000002");

        assertTrue(versions.withdraw("m", "v1-00000002"));
        assertTrue(versions.ref("m", "v1-00000002").isEmpty(), "index entry gone");
        assertFalse(Files.exists(materialised), "materialised copy gone");
        assertThrows(ArtifactNotFoundException.class, () -> store.manifest(failed));
        assertThrows(IllegalArgumentException.class, () -> versions.resolve("m", "v1-00000002"));
        assertEquals("kept", Files.readString(versions.resolve("m", "v1-00000001").resolve("sub/model.safetensors")),
                "the other version, which shares config.json, still materialises");
        assertEquals(kept, versions.ref("m", "v1-00000001").orElseThrow());
        assertFalse(versions.withdraw("m", "v1-00000002"), "a second withdrawal finds nothing");
    }

    @Test
    void ofConcurrentPublicationsOfOneVersionExactlyOneWins(@TempDir Path dir) throws Exception {
        Path catalogueFile = dev.loku.runtime.testing.TestCatalogues.write(dir, java.util.Map.of("m", List.of("acme")));
        DirectoryArtifactStore store = new DirectoryArtifactStore(dir.resolve("store"));
        ModelVersionStore versions = ModelVersionStore.inDirectory(store, ModelCatalogue.load(catalogueFile));
        int writers = 6;
        List<Path> runs = new java.util.ArrayList<>();
        for (int i = 0; i < writers; i++) {
            runs.add(folder(dir.resolve("run-" + i), "weights of delivery " + i));
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        try {
            for (int round = 0; round < 25; round++) {
                String version = "v1-" + String.format("%08x", round);
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(writers);
                List<java.util.concurrent.Future<ArtifactRef>> results = new java.util.ArrayList<>();
                for (Path run : runs) {
                    results.add(pool.submit(() -> {
                        start.await();
                        return versions.publish("m", version, run);
                    }));
                }
                List<ArtifactRef> won = new java.util.ArrayList<>();
                int refused = 0;
                for (java.util.concurrent.Future<ArtifactRef> f : results) {
                    try {
                        won.add(f.get());
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
                        refused++;
                    }
                }
                assertEquals(1, won.size(), "round " + round + ": exactly one delivery publishes the version");
                assertEquals(writers - 1, refused);
                assertEquals(won.get(0), versions.ref("m", version).orElseThrow(), "the index names the winner");
                Path winner = runs.stream().filter(r -> sameTree(store, r, won.get(0))).findFirst().orElseThrow();
                assertEquals(won.get(0), versions.publish("m", version, winner), "the winner's files: a no-op");
            }
        } finally {
            pool.shutdownNow();
        }
        try (Stream<Path> index = Files.list(store.root().resolve("model-versions").resolve("m"))) {
            assertEquals(25, index.count(), "no partial entries left in the index");
        }
    }

    private static boolean sameTree(DirectoryArtifactStore store, Path folder, ArtifactRef tree) {
        try {
            return store.putTree(folder).equals(tree);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path folder(Path dir, String weights) throws Exception {
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("config.json"), "{\"shared\":true}");
        Files.writeString(dir.resolve("sub/model.safetensors"), weights);
        return dir;
    }
}
