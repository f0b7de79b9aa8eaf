package dev.loku.runtime.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.ArtifactRef;
import dev.loku.events.ForgetSetReady;
import dev.loku.runtime.artifact.Sha256;
import dev.loku.runtime.testing.PipelineFixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What every job asks the stores, and the one reason each answer fails with. */
class PipelineStoresTest {

    @TempDir
    Path dir;

    private PipelineFixtures fx;
    private PipelineStores stores;

    @BeforeEach
    void setUp() {
        fx = PipelineFixtures.create(dir, null, 2, "m");
        stores = fx.stores();
    }

    @Test
    void aJobFindsItsModelItsBaseAndItsForgetSet() throws Exception {
        ForgetSetReady in = fx.forgetSet("m", 2);
        ForgetSetJob job = ForgetSetJob.of(in);
        assertEquals("m", stores.model(job).id());
        assertEquals(stores.catalogue().require("m").baseCheckpoint(), stores.base(job));
        byte[] bytes = stores.readForgetSet(in.getForgetSet());
        // Stored sealed (crypto-shredding); it opens, with the members' keys, to the content the engine reads.
        assertFalse(new String(bytes, StandardCharsets.UTF_8).contains(PipelineFixtures.SECRET), "stored sealed");
        assertTrue(new String(stores.openForgetSet(bytes), StandardCharsets.UTF_8).contains(PipelineFixtures.SECRET));
        Path copy = stores.copyForgetSet(in.getForgetSet(), dir.resolve("copy.jsonl"));
        assertArrayEquals(stores.openForgetSet(bytes), Files.readAllBytes(copy), "the scratch copy is the opened set");
        assertEquals(2, job.profileIn(stores.model(job)).maxAttempts());
    }

    @Test
    void eachFailureNamesWhatIsWrongAndNothingElse() throws Exception {
        ForgetSetReady in = fx.forgetSet("m", 1);
        ForgetSetJob unknownModel = ForgetSetJob.of(ForgetSetReady.newBuilder(in).setModelId("nope").build());
        assertEquals("model is not in this service's model catalogue",
                assertThrows(JobFailure.class, () -> stores.model(unknownModel)).reason().text());
        ForgetSetJob unpublished = ForgetSetJob.of(ForgetSetReady.newBuilder(in).setBaseModelVersion("v7-0a0b0c0d")
                .build());
        assertEquals("base model version v7-0a0b0c0d is not published",
                assertThrows(JobFailure.class, () -> stores.base(unpublished)).reason().text());
        ForgetSetJob thirdAttempt = ForgetSetJob.of(ForgetSetReady.newBuilder(in).setAttempt(3).build());
        assertEquals("attempt 3 is outside 1..2", assertThrows(JobFailure.class,
                () -> thirdAttempt.profileIn(stores.model(thirdAttempt))).reason().text());

        ArtifactRef never = Sha256.refOf("never stored".getBytes(StandardCharsets.UTF_8));
        assertEquals("the forget-set artifact is missing",
                assertThrows(JobFailure.class, () -> stores.readForgetSet(never)).reason().text());
        assertEquals("the importance artifact is missing", assertThrows(JobFailure.class,
                () -> stores.copy(never, dir.resolve("i.safetensors"), "importance")).reason().text());
        String sha = in.getForgetSet().getSha256();
        Files.writeString(fx.artifacts().root().resolve("blobs/sha256").resolve(sha.substring(0, 2)).resolve(sha),
                "tampered");
        JobFailure corrupt = assertThrows(JobFailure.class,
                () -> stores.copyForgetSet(in.getForgetSet(), dir.resolve("c.jsonl")));
        assertEquals("the forget-set artifact is corrupt", corrupt.reason().text());
        assertFalse(corrupt.reason().text().contains(PipelineFixtures.SECRET));
    }

    @Test
    void aContentRefNamesTheBytesByHashAlone() throws Exception {
        byte[] bytes = "abc".getBytes(StandardCharsets.UTF_8);
        ArtifactRef ref = Sha256.refOf(bytes);
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ref.getSha256());
        assertEquals("sha256:" + ref.getSha256(), ref.getUri());
        assertEquals(3L, ref.getSizeBytes());
        assertEquals(ref, Sha256.refOf(Files.write(dir.resolve("abc"), bytes)));
        assertThrows(IllegalArgumentException.class, () -> Sha256.ref("ABC", 3));
    }
}
