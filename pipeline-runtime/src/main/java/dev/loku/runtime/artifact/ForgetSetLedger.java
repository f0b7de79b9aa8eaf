package dev.loku.runtime.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.events.ArtifactRef;
import dev.loku.events.ForgetSetMember;
import dev.loku.events.ForgetSetReady;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * What the pipeline holds for each forget set, so that whoever purges it after the final verdict finds everything
 * (docs/pipeline.md, "Artifacts"). Events carry only some of the references (UnlearnCompleted has no forget-set
 * ref, VerificationResult none at all), and the per-request content artifacts are named by no event, so every stage
 * records here what it stores for a set <b>before</b> the event announcing it is committed:
 * <pre>
 * forget-sets/open/&lt;forgetSetId&gt;/set.json                   the set: model, base version, forget-set ref, members
 * forget-sets/open/&lt;forgetSetId&gt;/held/&lt;role&gt;-&lt;sha256&gt;.json   one file per artifact held for the set
 * forget-sets/closed/&lt;forgetSetId&gt;.json                     written by the purge, which then deletes the open folder
 * forget-sets/waiting/&lt;sha256&gt;/&lt;requestId&gt;                   an accepted request holds its content blob until its set is purged
 * </pre>
 * One file per holding, written atomically, so two writers (a job and the zombie of its previous owner) never lose
 * each other's entries, and a re-run rewrites identical files. Nothing here is personal data: ids, hashes, refs.
 * A closed set is recognisable for ever, so a stage that sees a stale event for it ignores it rather than fail.
 * Blobs are content-addressed, so two sets may hold the same blob (equal bytes): {@link #heldByAnotherSet} lets the
 * purge keep a blob another open set still holds. A request ingest accepted but has not cut into a set yet (it may be
 * waiting for another model's gate) is in no set, so ingest records its hold on its content blob itself
 * ({@link #holdWaiting}) before storing the blob, and {@link #heldElsewhere} counts it: the purge of one set never
 * deletes the content of a request still waiting with equal bytes.
 */
public final class ForgetSetLedger {

    /** Why an artifact is held for a set; decides how the purge removes it. */
    public enum Role {
        /** The forget set's JSONL (a blob, written by ingest). */
        FORGET_SET,
        /** One member request's content JSONL (a blob, written by ingest). */
        REQUEST_CONTENT,
        /** The Fisher importance (a blob, written by the Fisher service); attributes: token counts. */
        IMPORTANCE,
        /** A candidate model version (a tree published in the ModelVersionStore); attributes: version, attempt. */
        CANDIDATE_MODEL,
        /** A candidate's LoRA adapter (a tree); attributes: version, attempt. */
        CANDIDATE_ADAPTER
    }

    /** One artifact held for a set. */
    public record Holding(Role role, ArtifactRef ref, Map<String, String> attributes) {
        public Holding {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(ref, "ref");
            attributes = Map.copyOf(attributes);
        }

        public Optional<String> attribute(String name) {
            return Optional.ofNullable(attributes.get(name));
        }
    }

    /** A member request, as ForgetSetReady lists it: ids and hashes only. */
    public record Member(UUID requestId, String tenantId, String contentSha256, int itemCount) {
        public Member {
            Objects.requireNonNull(requestId, "requestId");
        }

        static Member of(ForgetSetMember m) {
            return new Member(m.getRequestId(), m.getTenantId(), m.getContentSha256(), m.getItemCount());
        }
    }

    /** The set as ingest cut it. */
    public record SetRecord(UUID forgetSetId, String modelId, String baseModelVersion, ArtifactRef forgetSet,
                            List<Member> members) {
        public SetRecord {
            Objects.requireNonNull(forgetSetId, "forgetSetId");
            Objects.requireNonNull(modelId, "modelId");
            Objects.requireNonNull(baseModelVersion, "baseModelVersion");
            Objects.requireNonNull(forgetSet, "forgetSet");
            members = List.copyOf(members);
        }

        public static SetRecord of(ForgetSetReady ready) {
            return new SetRecord(ready.getForgetSetId(), ready.getModelId(), ready.getBaseModelVersion(),
                    ready.getForgetSet(), ready.getMembers().stream().map(Member::of).toList());
        }

        /** The member with {@code requestId}, if it is one. */
        public Optional<Member> member(UUID requestId) {
            return members.stream().filter(m -> m.requestId().equals(requestId)).findFirst();
        }
    }

    /** How a set was closed. */
    public record Closure(String verdict, String promotedVersion, Instant closedAt) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;

    /** @param root the ledger's folder, shared by every service (normally {@code <artifacts.root>/forget-sets}) */
    public ForgetSetLedger(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** The usual layout: beside the blobs of a directory store. */
    public static ForgetSetLedger inDirectory(DirectoryArtifactStore store) {
        return new ForgetSetLedger(store.root().resolve("forget-sets"));
    }

    /** Records the set (the Fisher service, first thing on a ForgetSetReady); rewriting it is harmless. */
    public void recordSet(SetRecord set) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("forgetSetId", set.forgetSetId().toString());
        n.put("modelId", set.modelId());
        n.put("baseModelVersion", set.baseModelVersion());
        n.set("forgetSet", refJson(set.forgetSet()));
        ArrayNode members = n.putArray("members");
        for (Member m : set.members()) {
            members.addObject().put("requestId", m.requestId().toString()).put("tenantId", m.tenantId())
                    .put("contentSha256", m.contentSha256()).put("itemCount", m.itemCount());
        }
        write(dir(set.forgetSetId()).resolve("set.json"), n);
    }

    /** The set, if recorded and not yet closed. */
    public Optional<SetRecord> set(UUID forgetSetId) throws IOException {
        Optional<JsonNode> n = read(dir(forgetSetId).resolve("set.json"));
        if (n.isEmpty()) {
            return Optional.empty();
        }
        JsonNode j = n.get();
        List<Member> members = new ArrayList<>();
        for (JsonNode m : j.path("members")) {
            members.add(new Member(UUID.fromString(m.path("requestId").asText()), text(m, "tenantId"),
                    text(m, "contentSha256"), m.path("itemCount").asInt()));
        }
        return Optional.of(new SetRecord(UUID.fromString(j.path("forgetSetId").asText()), j.path("modelId").asText(),
                j.path("baseModelVersion").asText(), ref(j.path("forgetSet")), members));
    }

    /** Records that {@code ref} is held for the set; call it before announcing the artifact in an event. */
    public void hold(UUID forgetSetId, Holding holding) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("role", holding.role().name());
        n.set("ref", refJson(holding.ref()));
        ObjectNode attrs = n.putObject("attributes");
        new java.util.TreeMap<>(holding.attributes()).forEach(attrs::put);
        write(dir(forgetSetId).resolve("held").resolve(fileName(holding.role(), holding.ref().getSha256())), n);
    }

    /** Everything held for the set, by role then sha256 (a stable order). */
    public List<Holding> holdings(UUID forgetSetId) throws IOException {
        Path held = dir(forgetSetId).resolve("held");
        if (!Files.isDirectory(held)) {
            return List.of();
        }
        List<Holding> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(held, "*.json")) {
            for (Path f : files) {
                Optional<JsonNode> n = read(f);
                if (n.isEmpty()) {
                    continue; // deleted meanwhile by a purge
                }
                Map<String, String> attrs = new LinkedHashMap<>();
                n.get().path("attributes").properties().forEach(e -> attrs.put(e.getKey(), e.getValue().asText()));
                out.add(new Holding(Role.valueOf(n.get().path("role").asText()), ref(n.get().path("ref")), attrs));
            }
        }
        out.sort(Comparator.comparing((Holding h) -> h.role()).thenComparing(h -> h.ref().getSha256()));
        return out;
    }

    /** The holdings of one role. */
    public List<Holding> holdings(UUID forgetSetId, Role role) throws IOException {
        return holdings(forgetSetId).stream().filter(h -> h.role() == role).toList();
    }

    /**
     * Marks the set closed and forgets its set record and holdings (call it once the artifacts are deleted). A set
     * closed twice keeps its first closure.
     */
    public void close(UUID forgetSetId, Closure closure) throws IOException {
        Path closed = closedFile(forgetSetId);
        if (!Files.exists(closed)) {
            ObjectNode n = JSON.createObjectNode();
            n.put("verdict", closure.verdict());
            n.put("promotedVersion", closure.promotedVersion());
            n.put("closedAt", closure.closedAt().toString());
            write(closed, n);
        }
        Path dir = dir(forgetSetId);
        Path held = dir.resolve("held");
        if (Files.isDirectory(held)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(held)) {
                for (Path f : files) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(held);
        }
        Files.deleteIfExists(dir.resolve("set.json"));
        Files.deleteIfExists(dir);
    }

    /** The closure, if the set was closed. */
    public Optional<Closure> closure(UUID forgetSetId) throws IOException {
        return read(closedFile(forgetSetId)).map(n -> new Closure(n.path("verdict").asText(),
                text(n, "promotedVersion"), Instant.parse(n.path("closedAt").asText())));
    }

    /** Whether the set was closed (purged after its final verdict). */
    public boolean isClosed(UUID forgetSetId) {
        return Files.exists(closedFile(forgetSetId));
    }

    /** Whether a set other than {@code forgetSetId}, not yet closed, holds an artifact with {@code sha256}. */
    public boolean heldByAnotherSet(UUID forgetSetId, String sha256) throws IOException {
        Path open = root.resolve("open");
        if (!Files.isDirectory(open)) {
            return false;
        }
        try (DirectoryStream<Path> sets = Files.newDirectoryStream(open)) {
            for (Path set : sets) {
                if (set.getFileName().toString().equals(forgetSetId.toString())) {
                    continue;
                }
                for (Role role : Role.values()) {
                    if (Files.exists(set.resolve("held").resolve(fileName(role, sha256)))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Records that {@code requestId}, accepted by ingest, holds the content blob {@code sha256} until its set is
     * purged (or it fails or is rejected at the cut: {@link #releaseWaiting}). Call it before storing the blob.
     */
    public void holdWaiting(UUID requestId, String sha256) throws IOException {
        Path marker = waitingMarker(requestId, sha256);
        Files.createDirectories(marker.getParent());
        try {
            Files.createFile(marker);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // a re-run of the same acceptance
        }
    }

    /** Ends the hold {@link #holdWaiting} recorded; a hold that is not there is fine. */
    public void releaseWaiting(UUID requestId, String sha256) throws IOException {
        Path marker = waitingMarker(requestId, sha256);
        Files.deleteIfExists(marker);
        try {
            Files.deleteIfExists(marker.getParent());
        } catch (java.nio.file.DirectoryNotEmptyException e) {
            // another request holds the same bytes
        }
    }

    /**
     * Whether anything but the set {@code forgetSetId} and its {@code members} still needs the blob {@code sha256}:
     * another open set, or an accepted request outside {@code members} whose set was not purged yet.
     */
    public boolean heldElsewhere(UUID forgetSetId, java.util.Collection<UUID> members, String sha256)
            throws IOException {
        if (heldByAnotherSet(forgetSetId, sha256)) {
            return true;
        }
        Path holders = waitingMarker(UUID.randomUUID(), sha256).getParent();
        if (!Files.isDirectory(holders)) {
            return false;
        }
        java.util.Set<String> ours = new java.util.HashSet<>();
        members.forEach(m -> ours.add(m.toString()));
        try (DirectoryStream<Path> requests = Files.newDirectoryStream(holders)) {
            for (Path r : requests) {
                if (!ours.contains(r.getFileName().toString())) {
                    return true;
                }
            }
        } catch (NoSuchFileException e) {
            return false; // its last holder released it meanwhile
        }
        return false;
    }

    /**
     * The refs of the members' content artifacts, recovered from the forget set's bytes: ingest writes one JSONL
     * line per item and concatenates the members' content artifacts in request-id order (docs/pipeline.md), so
     * each member's artifact is its next {@code itemCount} lines. Empty when the bytes do not have the expected
     * number of lines (a layout this code does not know): better to purge nothing by guess than the wrong blob.
     * The refs' URIs are {@code sha256:<hex>}: the store finds blobs by hash.
     */
    public static List<ArtifactRef> memberContentRefs(byte[] forgetSet, List<Member> members) {
        List<Member> ordered = members.stream().sorted(Comparator.comparing(m -> m.requestId().toString())).toList();
        List<ArtifactRef> refs = new ArrayList<>();
        int pos = 0;
        for (Member m : ordered) {
            int start = pos;
            for (int line = 0; line < m.itemCount(); line++) {
                int nl = indexOf(forgetSet, (byte) '\n', pos);
                if (nl < 0) {
                    return List.of();
                }
                pos = nl + 1;
            }
            byte[] content = Arrays.copyOfRange(forgetSet, start, pos);
            refs.add(Sha256.refOf(content));
        }
        return pos == forgetSet.length ? refs : List.of();
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private Path dir(UUID forgetSetId) {
        return root.resolve("open").resolve(forgetSetId.toString());
    }

    private Path waitingMarker(UUID requestId, String sha256) {
        if (!Sha256.isHex(sha256)) {
            throw new IllegalArgumentException("a held artifact needs a valid sha256");
        }
        return root.resolve("waiting").resolve(sha256).resolve(requestId.toString());
    }

    private Path closedFile(UUID forgetSetId) {
        return root.resolve("closed").resolve(forgetSetId + ".json");
    }

    private static String fileName(Role role, String sha256) {
        if (!Sha256.isHex(sha256)) {
            throw new IllegalArgumentException("a held artifact needs a valid sha256");
        }
        return role.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + "-" + sha256 + ".json";
    }

    private static void write(Path file, JsonNode json) throws IOException {
        Files.createDirectories(file.getParent());
        Path partial = file.resolveSibling("." + file.getFileName() + "." + UUID.randomUUID());
        try {
            Files.writeString(partial, JSON.writeValueAsString(json), StandardCharsets.UTF_8);
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    private static Optional<JsonNode> read(Path file) throws IOException {
        try {
            return Optional.of(JSON.readTree(Files.readAllBytes(file)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static ObjectNode refJson(ArtifactRef ref) {
        return JSON.createObjectNode().put("uri", ref.getUri()).put("sha256", ref.getSha256())
                .put("sizeBytes", ref.getSizeBytes());
    }

    private static ArtifactRef ref(JsonNode n) {
        return new ArtifactRef(n.path("uri").asText(), n.path("sha256").asText(), n.path("sizeBytes").asLong());
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
