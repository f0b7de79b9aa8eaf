package dev.loku.runtime.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.SealedContent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sealing a request's content under its own data key, and what destroying the key does to every copy. */
class ContentSealTest {

    private static final String SECRET = "Zelda Secretperson lives at 7 Hidden Lane.";

    @Test
    void sealedContentOpensWithItsKeyAndHoldsNoPlaintext(@TempDir Path dir) throws Exception {
        DirectoryDataKeyStore keys = new DirectoryDataKeyStore(dir.resolve("keys"));
        ContentSeal seal = new ContentSeal(keys);
        UUID id = UUID.randomUUID();
        byte[] plain = ("{\"text\":\"" + SECRET + "\"}\n").getBytes(StandardCharsets.UTF_8);

        SealedContent sealed = seal.seal(id, plain);

        assertEquals(id, sealed.getKeyId());
        assertEquals(12, sealed.getNonce().remaining());
        assertEquals(plain.length + 16, sealed.getCiphertext().remaining(), "ciphertext + 128-bit tag");
        assertFalse(new String(bytes(sealed.getCiphertext()), StandardCharsets.ISO_8859_1).contains("Secretperson"));
        assertArrayEquals(plain, seal.open(id, sealed));
        // Independent check of the construction: the JDK's AES-GCM with the stored key, the nonce and the id as AAD.
        SecretKey key = keys.find(id).orElseThrow();
        assertEquals(32, key.getEncoded().length, "256-bit key");
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, bytes(sealed.getNonce())));
        gcm.updateAAD(id.toString().getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(plain, gcm.doFinal(bytes(sealed.getCiphertext())));
    }

    @Test
    void sealedLinesLookTheKeyUpOncePerRequestAndEachLineHasItsOwnNonce(@TempDir Path dir) throws Exception {
        DirectoryDataKeyStore disk = new DirectoryDataKeyStore(dir);
        int[] lookUps = new int[1];
        DataKeyStore counting = new DataKeyStore() {
            @Override
            public SecretKey createIfAbsent(UUID requestId) throws java.io.IOException {
                lookUps[0]++;
                return disk.createIfAbsent(requestId);
            }

            @Override
            public java.util.Optional<SecretKey> find(UUID requestId) throws java.io.IOException {
                return disk.find(requestId);
            }

            @Override
            public boolean destroy(UUID requestId) throws java.io.IOException {
                return disk.destroy(requestId);
            }
        };
        ContentSeal seal = new ContentSeal(counting);
        UUID id = UUID.randomUUID();
        byte[] jsonl = ("{\"text\":\"" + SECRET + "\"}\n{\"text\":\"" + SECRET + "\"}\n"
                + "{\"question\":\"q\",\"answer\":\"" + SECRET + "\"}\n").getBytes(StandardCharsets.UTF_8);

        byte[] sealed = SealedLines.seal(seal, id, jsonl);

        assertEquals(1, lookUps[0], "one key look-up for the request's three lines");
        assertArrayEquals(jsonl, SealedLines.open(seal, sealed));
        String[] lines = new String(sealed, StandardCharsets.UTF_8).split("\n");
        assertEquals(3, lines.length);
        assertTrue(!lines[0].equals(lines[1]), "two equal plaintext lines seal differently (fresh nonces)");
        assertFalse(new String(sealed, StandardCharsets.UTF_8).contains("Secretperson"));
        assertEquals(0, SealedLines.seal(seal, UUID.randomUUID(), new byte[0]).length);
        assertEquals(1, lookUps[0], "no lines: no key looked up or created");
    }

    @Test
    void everySealingHasAFreshNonce(@TempDir Path dir) throws Exception {
        ContentSeal seal = new ContentSeal(new DirectoryDataKeyStore(dir));
        UUID id = UUID.randomUUID();
        Set<ByteBuffer> nonces = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            nonces.add(seal.seal(id, SECRET.getBytes(StandardCharsets.UTF_8)).getNonce());
        }
        assertEquals(50, nonces.size());
    }

    @Test
    void aDestroyedKeyLeavesEveryCopyUnreadableWithAReasonThatNamesOnlyTheRequest(@TempDir Path dir) throws Exception {
        DirectoryDataKeyStore keys = new DirectoryDataKeyStore(dir);
        ContentSeal seal = new ContentSeal(keys);
        UUID id = UUID.randomUUID();
        SealedContent sealed = seal.seal(id, SECRET.getBytes(StandardCharsets.UTF_8));

        assertTrue(keys.destroy(id));
        assertFalse(keys.destroy(id), "destroying again is a no-op");
        assertTrue(keys.find(id).isEmpty());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("tmp")), files.toList(), "no key file left");
        }
        ContentSeal.UnsealException e = assertThrows(ContentSeal.UnsealException.class, () -> seal.open(id, sealed));
        assertEquals(ContentSeal.UnsealException.Reason.KEY_MISSING, e.reason());
        assertEquals("the data key of request " + id + " is not in the key store (destroyed or never stored)",
                e.getMessage());
    }

    @Test
    void tamperedCiphertextOrAnotherRequestsRecordDoesNotOpen(@TempDir Path dir) throws Exception {
        ContentSeal seal = new ContentSeal(new DirectoryDataKeyStore(dir));
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        SealedContent sealed = seal.seal(a, SECRET.getBytes(StandardCharsets.UTF_8));
        seal.seal(b, new byte[] {1});

        byte[] flipped = bytes(sealed.getCiphertext());
        flipped[3] ^= 1;
        SealedContent tampered = new SealedContent(a, sealed.getNonce(), ByteBuffer.wrap(flipped));
        assertEquals(ContentSeal.UnsealException.Reason.DOES_NOT_OPEN,
                assertThrows(ContentSeal.UnsealException.class, () -> seal.open(a, tampered)).reason());
        // b's key and id with a's ciphertext: the AAD (the request id) and the key both differ.
        SealedContent moved = new SealedContent(b, sealed.getNonce(), sealed.getCiphertext());
        ContentSeal.UnsealException e = assertThrows(ContentSeal.UnsealException.class, () -> seal.open(b, moved));
        assertEquals(ContentSeal.UnsealException.Reason.DOES_NOT_OPEN, e.reason());
        assertFalse(e.getMessage().contains("Secretperson"));
        assertThrows(ContentSeal.UnsealException.class, () -> seal.open(b, sealed), "a's record claimed by b");
    }

    @Test
    void concurrentCreatorsOfOneRequestsKeyAllGetTheSameKey(@TempDir Path dir) throws Exception {
        DirectoryDataKeyStore keys = new DirectoryDataKeyStore(dir);
        UUID id = UUID.randomUUID();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<byte[]>> tasks = Stream.<Callable<byte[]>>generate(
                    () -> () -> keys.createIfAbsent(id).getEncoded()).limit(32).toList();
            List<Future<byte[]>> results = pool.invokeAll(tasks);
            byte[] first = results.get(0).get();
            for (Future<byte[]> f : results) {
                assertArrayEquals(first, f.get());
            }
            assertArrayEquals(first, keys.find(id).orElseThrow().getEncoded());
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
