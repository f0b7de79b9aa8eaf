package dev.loku.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.io.SafetensorsWriter;
import dev.loku.core.train.AdamW;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an unlearning run leaves its state after every trained epoch, so that a run stopped part-way (its process
 * killed, its partition moved to another worker) starts again from its last finished epoch instead of epoch 0, and
 * ends exactly as the uninterrupted run would have (docs/engine.md, "Epoch checkpoints").
 *
 * <p>A checkpoint is two files in the folder, each written under a temporary name and renamed into place:
 * {@code epoch-NNNN.safetensors} (every trainable tensor, and the optimiser's two moments of each, at their own
 * types) and then {@code epoch-NNNN.json} (the run it belongs to, the epoch records so far, each tensor's update
 * count, and the SHA-256 of the tensor file). Only a checkpoint whose JSON is there, names the same run and whose
 * tensor file has the recorded hash is resumed; anything else (a file cut short by the kill, another run's
 * checkpoint, a changed setting) is skipped with a log line and the run starts from the beginning. After a save the
 * older checkpoints are deleted, so the folder holds one.
 *
 * <p>The tensors are derived from the forget set (the adapter being trained on it), so the folder is as sensitive
 * as the candidate it becomes: the caller deletes it when the run has ended ({@link #delete}).
 */
public final class EpochCheckpoints {

    private static final Logger LOG = LoggerFactory.getLogger(EpochCheckpoints.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PARAM = "param/";
    private static final String FIRST_MOMENT = "adam.m/";
    private static final String SECOND_MOMENT = "adam.v/";

    private final Path dir;

    private EpochCheckpoints(Path dir) {
        this.dir = dir;
    }

    /** Checkpoints kept in {@code dir} (created on the first save). */
    public static EpochCheckpoints in(Path dir) {
        return new EpochCheckpoints(dir.toAbsolutePath());
    }

    public Path dir() {
        return dir;
    }

    /** The state restored by {@link #resume}: the epoch it stands at and the records of epochs 0 to that one. */
    record Resumed(int epoch, List<EpochRecord> epochs) {}

    /**
     * Saves the state after trained epoch {@code epoch}: {@code params} as they now are, {@code adam}'s moments,
     * and {@code epochs} (records 0 to {@code epoch}); then deletes every older checkpoint.
     */
    void save(String runKey, int epoch, List<EpochRecord> epochs, Map<String, NDArray> params, AdamW adam)
            throws IOException {
        Files.createDirectories(dir);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        ObjectNode steps = JSON.createObjectNode();
        for (Map.Entry<String, NDArray> p : params.entrySet()) {
            AdamW.Moments moments = adam.moments(p.getKey());
            if (moments == null) {
                throw new IllegalStateException("parameter " + p.getKey() + " has no optimiser state at epoch " + epoch);
            }
            tensors.put(PARAM + p.getKey(), p.getValue());
            tensors.put(FIRST_MOMENT + p.getKey(), moments.m());
            tensors.put(SECOND_MOMENT + p.getKey(), moments.v());
            steps.put(p.getKey(), moments.t());
        }
        String base = name(epoch);
        Path tensorFile = dir.resolve(base + ".safetensors");
        Path partial = dir.resolve(".partial-" + UUID.randomUUID() + ".safetensors");
        SafetensorsWriter.write(partial, tensors, Map.of("format", "loku-epoch-checkpoint"));
        String sha = ContentHash.of(partial);
        moveIntoPlace(partial, tensorFile);

        ObjectNode doc = JSON.createObjectNode();
        doc.put("run_key", runKey);
        doc.put("epoch", epoch);
        doc.put("tensors_sha256", sha);
        doc.set("steps", steps);
        ArrayNode records = doc.putArray("epochs");
        for (EpochRecord e : epochs) {
            records.addArray().add(e.epoch()).add(e.loss()).add(e.forgetMa()).add(e.forgetEl10()).add(e.retainMa())
                    .add(e.retainNll()).add(e.seconds());
        }
        Path jsonPartial = dir.resolve(".partial-" + UUID.randomUUID() + ".json");
        Files.write(jsonPartial, JSON.writeValueAsBytes(doc));
        moveIntoPlace(jsonPartial, dir.resolve(base + ".json"));
        for (int older : epochsOnDisk()) {
            if (older < epoch) {
                Files.deleteIfExists(dir.resolve(name(older) + ".json"));
                Files.deleteIfExists(dir.resolve(name(older) + ".safetensors"));
            }
        }
    }

    /**
     * Loads the newest checkpoint of run {@code runKey} into {@code params} (in place) and {@code adam}, or returns
     * empty, changing nothing, when there is none that is whole and of this run.
     */
    Optional<Resumed> resume(String runKey, Map<String, NDArray> params, AdamW adam, NDManager manager)
            throws IOException {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        List<Integer> found = epochsOnDisk();
        for (int i = found.size() - 1; i >= 0; i--) {
            int epoch = found.get(i);
            Optional<Resumed> r = tryResume(epoch, runKey, params, adam, manager);
            if (r.isPresent()) {
                return r;
            }
        }
        return Optional.empty();
    }

    private Optional<Resumed> tryResume(int epoch, String runKey, Map<String, NDArray> params, AdamW adam,
                                        NDManager manager) throws IOException {
        Path jsonFile = dir.resolve(name(epoch) + ".json");
        Path tensorFile = dir.resolve(name(epoch) + ".safetensors");
        JsonNode doc;
        try {
            doc = JSON.readTree(Files.readString(jsonFile, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return skip(epoch, "its record does not parse");
        }
        if (!runKey.equals(doc.path("run_key").asText())) {
            return skip(epoch, "it belongs to another run (other data, model or settings)");
        }
        if (!Files.isRegularFile(tensorFile) || !ContentHash.of(tensorFile).equals(doc.path("tensors_sha256").asText())) {
            return skip(epoch, "its tensor file is missing or does not have the recorded SHA-256");
        }
        List<EpochRecord> epochs = new ArrayList<>();
        for (JsonNode r : doc.path("epochs")) {
            epochs.add(new EpochRecord(r.get(0).asInt(), r.get(1).asDouble(), r.get(2).asDouble(), r.get(3).asDouble(),
                    r.get(4).asDouble(), r.get(5).asDouble(), r.get(6).asDouble()));
        }
        if (epochs.size() != epoch + 1 || doc.path("epoch").asInt(-1) != epoch) {
            return skip(epoch, "its epoch records do not run from 0 to " + epoch);
        }
        try (SafetensorsFile file = SafetensorsFile.open(tensorFile); NDManager scope = manager.newSubManager()) {
            for (String name : params.keySet()) {
                if (!file.contains(PARAM + name) || !doc.path("steps").has(name)) {
                    return skip(epoch, "it has no state for parameter " + name);
                }
                if (!file.entry(PARAM + name).djlShape().equals(params.get(name).getShape())) {
                    return skip(epoch, "parameter " + name + " has another shape in it");
                }
            }
            for (Map.Entry<String, NDArray> p : params.entrySet()) {
                String name = p.getKey();
                NDArray target = p.getValue();
                NDArray saved = file.readFloat32(scope, PARAM + name).toType(target.getDataType(), false);
                target.set(new NDIndex("..."), saved.toDevice(target.getDevice(), false));
                adam.restore(name, file.readFloat32(scope, FIRST_MOMENT + name).toDevice(target.getDevice(), false),
                        file.readFloat32(scope, SECOND_MOMENT + name).toDevice(target.getDevice(), false),
                        doc.path("steps").get(name).asInt());
            }
        }
        return Optional.of(new Resumed(epoch, List.copyOf(epochs)));
    }

    /** Deletes the folder and everything in it (the run has ended: its output is the record of it now). */
    public void delete() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }

    private Optional<Resumed> skip(int epoch, String why) {
        LOG.warn("event=epoch_checkpoint_skipped dir={} epoch={} reason=\"{}\"", dir, epoch, why);
        return Optional.empty();
    }

    /** The epochs with a JSON record in the folder, ascending. */
    private List<Integer> epochsOnDisk() throws IOException {
        TreeMap<Integer, Path> found = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "epoch-*.json")) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                try {
                    found.put(Integer.parseInt(n.substring("epoch-".length(), n.length() - ".json".length())), f);
                } catch (NumberFormatException e) {
                    // not ours
                }
            }
        }
        return new ArrayList<>(found.keySet());
    }

    private static String name(int epoch) {
        return String.format(java.util.Locale.ROOT, "epoch-%04d", epoch);
    }

    private static void moveIntoPlace(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
