package dev.loku.core.fisher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.loku.core.fila.RelativeImportance;
import dev.loku.core.io.FileFormatException;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.io.SafetensorsWriter;
import dev.loku.core.tensor.TensorScope;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The result of a Fisher pass: per weight name the fp32 sums F_f = Σ n_b g_b² and F_r, and the token counts
 * N_f, N_r (docs/method.md §2.2), with provenance. It is what FILA reads ({@link #relative}) and what the pipeline stores
 * as an artifact: {@link #tensors} and {@link #metadata} are a plain hand-off for a safetensors writer, and
 * {@link #fromTensors} reads them back. Owns its arrays; close it when done.
 *
 * <p>Layout: tensor {@code importance_f.<weight name>} and {@code importance_r.<weight name>} (the reference's
 * {importance_f, importance_r}); metadata {@code f_cnt}, {@code r_cnt}, {@code format} plus the caller's keys.
 */
public final class FisherImportance implements AutoCloseable {

    public static final String FORMAT = "loku-fisher-v1";
    public static final String FORGET_PREFIX = "importance_f.";
    public static final String RETAIN_PREFIX = "importance_r.";
    public static final String KEY_FORMAT = "format";
    public static final String KEY_FORGET_COUNT = "f_cnt";
    public static final String KEY_RETAIN_COUNT = "r_cnt";
    /** Suggested provenance keys. */
    public static final String MODEL_SHA256 = "model_sha256";
    public static final String FORGET_SHA256 = "forget_sha256";
    public static final String RETAIN_SHA256 = "retain_sha256";

    private final NDManager manager;
    private final Map<String, NDArray> forget;
    private final Map<String, NDArray> retain;
    private final long forgetCount;
    private final long retainCount;
    private final Map<String, String> metadata;

    FisherImportance(NDManager manager, Map<String, NDArray> forget, Map<String, NDArray> retain, long forgetCount,
            long retainCount, Map<String, String> metadata) {
        this.manager = manager;
        this.forget = new TreeMap<>(forget);
        this.retain = new TreeMap<>(retain);
        this.forgetCount = forgetCount;
        this.retainCount = retainCount;
        Map<String, String> meta = new TreeMap<>(metadata == null ? Map.of() : metadata);
        meta.put(KEY_FORMAT, FORMAT);
        meta.put(KEY_FORGET_COUNT, Long.toString(forgetCount));
        meta.put(KEY_RETAIN_COUNT, Long.toString(retainCount));
        this.metadata = Collections.unmodifiableMap(meta);
    }

    /**
     * FILA's row weights for {@code name}, sqrt of F_rel's row sums ({@link RelativeImportance#rowWeights(NDArray,
     * long, NDArray, long)}): [d_out], in this object's manager; the caller closes it.
     */
    public NDArray rowWeights(String name) {
        return RelativeImportance.rowWeights(require(forget, name), forgetCount, require(retain, name), retainCount);
    }

    /** The weight names covered, sorted. */
    public Set<String> names() {
        return Collections.unmodifiableSet(forget.keySet());
    }

    public long forgetCount() {
        return forgetCount;
    }

    public long retainCount() {
        return retainCount;
    }

    /** F_f for {@code name} (owned by this object; do not close). */
    public NDArray forgetSum(String name) {
        return require(forget, name);
    }

    /** F_r for {@code name} (owned by this object; do not close). */
    public NDArray retainSum(String name) {
        return require(retain, name);
    }

    /** F_f / N_f, a new array attached to this object's manager. */
    public NDArray forgetMean(String name) {
        try (TensorScope scope = new TensorScope()) {
            return scope.keep(require(forget, name).div((float) forgetCount));
        }
    }

    /** F_r / N_r, a new array attached to this object's manager. */
    public NDArray retainMean(String name) {
        try (TensorScope scope = new TensorScope()) {
            return scope.keep(require(retain, name).div((float) retainCount));
        }
    }

    /** F_rel = (F_f/N_f) / (1e-5 + F_r/N_r) for {@code name} (§2.3), attached to this object's manager. */
    public NDArray relative(String name) {
        return RelativeImportance.of(require(forget, name), forgetCount, require(retain, name), retainCount);
    }

    /** All metadata, including the counts and format marker; string to string, as safetensors stores it. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The tensors to write, keyed by their file names and named accordingly ({@link NDArray#getName}), fp32. They
     * remain owned by this object.
     */
    public Map<String, NDArray> tensors() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        forget.forEach((name, a) -> {
            a.setName(FORGET_PREFIX + name);
            out.put(FORGET_PREFIX + name, a);
        });
        retain.forEach((name, a) -> {
            a.setName(RETAIN_PREFIX + name);
            out.put(RETAIN_PREFIX + name, a);
        });
        return out;
    }

    /**
     * Rebuilds an importance from what {@link #tensors} and {@link #metadata} wrote. The arrays are copied into a
     * manager owned by the result, so the caller keeps ownership of {@code tensors}.
     *
     * @throws IllegalArgumentException when the format marker, a count or a forget/retain partner is missing
     */
    public static FisherImportance fromTensors(NDManager parent, Map<String, NDArray> tensors,
            Map<String, String> metadata) {
        if (!FORMAT.equals(metadata.get(KEY_FORMAT))) {
            throw new IllegalArgumentException("not a Fisher importance file: format is "
                    + metadata.get(KEY_FORMAT) + ", expected " + FORMAT);
        }
        long f = parseCount(metadata, KEY_FORGET_COUNT);
        long r = parseCount(metadata, KEY_RETAIN_COUNT);
        NDManager own = parent.newSubManager();
        Map<String, NDArray> forget = new LinkedHashMap<>();
        Map<String, NDArray> retain = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                String key = e.getKey();
                Map<String, NDArray> side;
                String name;
                if (key.startsWith(FORGET_PREFIX)) {
                    side = forget;
                    name = key.substring(FORGET_PREFIX.length());
                } else if (key.startsWith(RETAIN_PREFIX)) {
                    side = retain;
                    name = key.substring(RETAIN_PREFIX.length());
                } else {
                    throw new IllegalArgumentException("unexpected tensor '" + key + "' in a Fisher importance file");
                }
                // A real copy: toType(FLOAT32, true) on a float32 array returns a new handle on the same storage,
                // and an array read from a file may borrow a direct buffer that is freed with the original
                // handle, which left garbage (NaN) in loaded importances once the garbage collector ran.
                NDArray source = e.getValue();
                NDArray copy = source.getDataType() == DataType.FLOAT32 ? source.duplicate()
                        : source.toType(DataType.FLOAT32, false);
                copy.attach(own);
                side.put(name, copy);
            }
            if (!forget.keySet().equals(retain.keySet())) {
                throw new IllegalArgumentException("every weight needs both a forget and a retain importance");
            }
        } catch (RuntimeException ex) {
            own.close();
            throw ex;
        }
        Map<String, String> rest = new TreeMap<>(metadata);
        rest.remove(KEY_FORMAT);
        rest.remove(KEY_FORGET_COUNT);
        rest.remove(KEY_RETAIN_COUNT);
        return new FisherImportance(own, forget, retain, f, r, rest);
    }

    /**
     * Writes {@link #tensors} as fp32 safetensors with {@link #metadata} in the header's {@code __metadata__} (the
     * pipeline's importance artifact). The file appears atomically.
     */
    public void save(Path file) throws IOException {
        SafetensorsWriter.write(file, tensors(), metadata());
    }

    /**
     * Reads a file written by {@link #save}; the result's arrays live in a child of {@code parent}.
     *
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws FileFormatException when the file is not safetensors, is truncated or corrupt, lacks the
     *     {@value #FORMAT} marker or counts, or has a weight without its forget/retain partner; one line naming
     *     the file
     */
    public static FisherImportance load(Path file, NDManager parent) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file); NDManager tmp = parent.newSubManager()) {
            Map<String, String> metadata = f.metadata();
            if (!FORMAT.equals(metadata.get(KEY_FORMAT))) {
                throw new FileFormatException(file, "not a Fisher importance file (format marker is "
                        + (metadata.containsKey(KEY_FORMAT) ? "'" + metadata.get(KEY_FORMAT) + "'" : "missing")
                        + ", expected '" + FORMAT + "')");
            }
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (SafetensorsFile.Entry e : f.entries()) {
                tensors.put(e.name(), f.readFloat32(tmp, e.name()));
            }
            try {
                return fromTensors(parent, tensors, metadata);
            } catch (IllegalArgumentException e) {
                throw new FileFormatException(file, e.getMessage());
            }
        }
    }

    private static long parseCount(Map<String, String> metadata, String key) {
        try {
            long v = Long.parseLong(metadata.getOrDefault(key, ""));
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Fisher importance metadata '" + key + "' must be a positive count");
        }
    }

    private static NDArray require(Map<String, NDArray> side, String name) {
        NDArray a = side.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no Fisher importance for weight '" + name + "'");
        }
        return a;
    }

    @Override
    public void close() {
        manager.close();
    }
}
