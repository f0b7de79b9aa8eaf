package dev.loku.runtime.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.events.ArtifactRef;
import dev.loku.events.ForgetSetMember;
import dev.loku.events.ForgetSetReady;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.DirectoryArtifactStore;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ModelVersionStore;
import dev.loku.runtime.artifact.Sha256;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.crypto.DirectoryDataKeyStore;
import dev.loku.runtime.crypto.SealedLines;
import dev.loku.runtime.job.PipelineStores;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * A pipeline's files for job tests: a model catalogue (IHL profile, {@code maxAttempts} attempts), its data files,
 * an artifact store with its model versions and forget-set ledger, a data key store ({@code keys/}), and forget sets
 * stored the way ingest stores them (each member's content artifact, sealed under the member's data key, then the
 * set's artifact: the members' sealed lines in request-id order). The content is synthetic and contains
 * {@link #SECRET}, so tests can scan their outputs for it.
 */
public final class PipelineFixtures {

    /** A marker in every forget text: it must never appear in logs, audit events, reasons or metrics. */
    public static final String SECRET = "Zelda Secretperson";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Path catalogueFile;
    private final PipelineStores stores;
    private final DirectoryArtifactStore artifacts;
    private final Map<UUID, byte[]> sealed = new ConcurrentHashMap<>();

    private PipelineFixtures(Path dir, Path catalogueFile, PipelineStores stores, DirectoryArtifactStore artifacts) {
        this.dir = dir;
        this.catalogueFile = catalogueFile;
        this.stores = stores;
        this.artifacts = artifacts;
    }

    /**
     * Creates the catalogue of {@code modelIds} in {@code dir}, each with {@code baseCheckpoint} as v0 (a dummy
     * file when null), tenant {@code acme}, retain and unseen data, and {@code maxAttempts} attempts.
     */
    public static PipelineFixtures create(Path dir, Path baseCheckpoint, int maxAttempts, String... modelIds) {
        try {
            Files.createDirectories(dir.resolve("data"));
            Path base = baseCheckpoint;
            if (base == null) {
                base = Files.writeString(dir.resolve("base.bin"), "not a real checkpoint");
            }
            Files.writeString(dir.resolve("data/retain.jsonl"), "{\"text\":\"Once upon a time there was a cat.\"}\n");
            Files.writeString(dir.resolve("data/unseen.jsonl"), "{\"text\":\"The dog ran to the big red barn.\"}\n");
            Files.writeString(dir.resolve("data/general.jsonl"), "{\"text\":\"A bird sang in the tall green tree.\"}\n");
            String baseJson = JSON.writeValueAsString(base.toString());
            String models = List.of(modelIds).stream().map(id -> """
                    {"id": "%s", "baseCheckpoint": %s, "tenants": ["acme"],
                     "retainData": "data/retain.jsonl", "unseenData": "data/unseen.jsonl",
                     "generalData": "data/general.jsonl",
                     "profile": {"method": "INVERTED_HINGE_LOSS", "initialization": "FILA", "loraRank": 4,
                                 "learningRate": 0.001, "maxEpochs": 3, "retainTolerance": 0.05,
                                 "maxAttempts": %d}}""".formatted(id, baseJson, maxAttempts))
                    .collect(Collectors.joining(",\n", "{\"models\": [\n", "\n]}\n"));
            Path catalogueFile = Files.writeString(dir.resolve("catalogue.json"), models);
            ModelCatalogue catalogue = ModelCatalogue.load(catalogueFile);
            DirectoryArtifactStore store = new DirectoryArtifactStore(dir.resolve("artifacts"));
            return new PipelineFixtures(dir, catalogueFile, new PipelineStores(catalogue, store,
                    ModelVersionStore.inDirectory(store, catalogue), ForgetSetLedger.inDirectory(store),
                    new DirectoryDataKeyStore(dir.resolve("keys"))), store);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Path catalogueFile() {
        return catalogueFile;
    }

    public PipelineStores stores() {
        return stores;
    }

    public DirectoryArtifactStore artifacts() {
        return artifacts;
    }

    /** The common settings of a service of this pipeline (add bootstrap.servers and registry.url for a broker). */
    public Map<String, String> commonSettings(String instanceId) {
        Map<String, String> s = new HashMap<>();
        s.put("artifacts.root", artifacts.root().toString());
        s.put("keys.root", dir.resolve("keys").toString());
        s.put("models.catalogue", catalogueFile.toString());
        s.put("http.port", "0");
        s.put("service.instance.id", instanceId);
        return s;
    }

    /** A forget set of {@code requests} requests for {@code modelId}, attempt 1 from v0, stored as ingest stores it. */
    public ForgetSetReady forgetSet(String modelId, int requests) {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            ids.add(UUID.randomUUID());
        }
        return forgetSet(modelId, ids);
    }

    /** A forget set of the requests {@code ids}, stored as ingest stores it. */
    public ForgetSetReady forgetSet(String modelId, List<UUID> ids) {
        try {
            List<UUID> sorted = ids.stream().sorted(Comparator.comparing(UUID::toString)).toList();
            List<ForgetSetMember> members = new ArrayList<>();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (UUID id : sorted) {
                byte[] content = sealedContent(id);
                stores.artifacts().put(content);
                all.writeBytes(content);
                members.add(new ForgetSetMember(id, "acme", Sha256.hex(("canonical " + id).getBytes(StandardCharsets.UTF_8)), 2));
            }
            ArtifactRef set = stores.artifacts().put(all.toByteArray());
            return ForgetSetReady.newBuilder()
                    .setForgetSetId(PipelineIds.forgetSetId(sorted))
                    .setModelId(modelId)
                    .setBaseModelVersion(ModelVersionStore.BASE_VERSION)
                    .setForgetSet(set)
                    .setMembers(members)
                    .setRequestCount(members.size())
                    .setItemCount(2 * members.size())
                    .setAttempt(1)
                    .setCreatedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A member's content artifact bytes: one text and one QA pair, as ingest writes them. */
    public static byte[] content(UUID requestId) {
        try {
            String text = JSON.writeValueAsString(JSON.createObjectNode().put("text",
                    SECRET + " (" + requestId + ") lives at 7 Hidden Lane."));
            String qa = JSON.writeValueAsString(JSON.createObjectNode().put("question", "Where does " + SECRET + " live?")
                    .put("answer", "At 7 Hidden Lane."));
            return (text + "\n" + qa + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a minimal valid safetensors file: one F32 tensor {@code name} holding {@code values} (what a fake
     * importance estimator produces; the engine's {@code SafetensorsFile} reads it).
     */
    public static Path tinySafetensors(Path file, String name, float... values) {
        try {
            com.fasterxml.jackson.databind.node.ObjectNode tensor = JSON.createObjectNode().put("dtype", "F32");
            tensor.putArray("shape").add(values.length);
            tensor.putArray("data_offsets").add(0).add(4 * values.length);
            String header = JSON.writeValueAsString(JSON.createObjectNode().set(name, tensor));
            byte[] h = header.getBytes(StandardCharsets.UTF_8);
            int padded = (h.length + 7) / 8 * 8;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + padded + 4 * values.length)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putLong(padded).put(h);
            for (int i = h.length; i < padded; i++) {
                b.put((byte) ' ');
            }
            for (float v : values) {
                b.putFloat(v);
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            return Files.write(file, b.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A member's content artifact as ingest stores it: {@link #content} sealed under its key (once per id). */
    public byte[] sealedContent(UUID requestId) {
        return sealed.computeIfAbsent(requestId, id -> {
            try {
                return SealedLines.seal(stores.seal(), id, content(id));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The ref of a member's content artifact. */
    public ArtifactRef contentRef(UUID requestId) {
        return Sha256.refOf(sealedContent(requestId));
    }
}
