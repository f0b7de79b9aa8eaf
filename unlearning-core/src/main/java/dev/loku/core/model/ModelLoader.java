package dev.loku.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.io.FileFormatException;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.tensor.Tensors;
import dev.loku.core.tokenizer.HfTokenizer;
import dev.loku.core.tokenizer.Llama2cTokenizer;
import dev.loku.core.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a model from what a user points at:
 * <ul>
 *   <li>a Hugging Face folder: {@code config.json} + {@code model.safetensors} or a sharded
 *       {@code model.safetensors.index.json}, and {@code tokenizer.json};</li>
 *   <li>a llama2.c checkpoint {@code .bin} (legacy version-0 format), with its tokenizer ({@code tokenizer.bin} or a
 *       single {@code tok*.bin}, else a {@code tokenizer.json}) in the same folder;</li>
 *   <li>a folder holding such a llama2.c checkpoint (e.g. {@code models/stories260K}).</li>
 * </ul>
 * Failures a user can fix come back as {@link ModelLoadException} with one line naming the file and tensor.
 */
public final class ModelLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelLoader() {}

    /** Loads onto the default device ({@link Devices#parse} "auto"). */
    public static DecoderModel load(Path path) {
        return load(path, Devices.parse("auto"));
    }

    /**
     * Loads the model at {@code path} onto {@code device}: a Hugging Face folder of any {@link ModelFamily} (chosen
     * from its config.json) or a llama2.c checkpoint.
     */
    public static DecoderModel load(Path path, Device device) {
        return load(path, device, DataType.FLOAT32);
    }

    /**
     * {@link #load(Path, Device)} with the weights held as {@code weightType} (float32 or float16), each tensor
     * converted as it is read, so that a float16 model never holds a float32 copy of its weights.
     */
    public static DecoderModel load(Path path, Device device, DataType weightType) {
        if (!DecoderModel.isWeightType(weightType)) {
            throw new ModelLoadException("weights can be held as float32 or float16, not " + weightType
                    + (weightType == DataType.BFLOAT16 ? " (DJL 0.36's PyTorch JNI has no bfloat16)" : ""));
        }
        return loadAs(path, device, weightType);
    }

    private static DecoderModel loadAs(Path path, Device device, DataType weightType) {
        if (!Files.exists(path)) {
            throw new ModelLoadException(path + ": no such file or folder");
        }
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve("config.json"))) {
                return loadHf(path, device, weightType);
            }
            Path bin = findLlama2cCheckpoint(path);
            if (bin != null) {
                return narrowed(loadLlama2c(bin, device), weightType);
            }
            throw new ModelLoadException(path + ": not a model folder (no config.json for a Hugging Face model and"
                    + " no llama2.c .bin checkpoint)");
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".bin")) {
            return narrowed(loadLlama2c(path, device), weightType);
        }
        if (name.equals("config.json") || name.endsWith(".safetensors") || name.endsWith(".index.json")) {
            Path dir = path.toAbsolutePath().getParent();
            if (Files.isRegularFile(dir.resolve("config.json"))) {
                return loadHf(dir, device, weightType);
            }
            throw new ModelLoadException(dir.resolve("config.json") + ": file not found (a safetensors checkpoint"
                    + " needs the config.json of its Hugging Face folder)");
        }
        throw new ModelLoadException(path + ": unsupported model file; give a Hugging Face folder, a llama2.c .bin"
                + " or a folder holding one");
    }

    private static Path findLlama2cCheckpoint(Path dir) {
        List<Path> bins = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().endsWith(".bin"))
                    .filter(p -> !isTokenizerBin(p))
                    .sorted()
                    .forEach(bins::add);
        } catch (IOException e) {
            throw new ModelLoadException(dir + ": cannot list the folder (" + e.getMessage() + ")", e);
        }
        if (bins.size() > 1) {
            throw new ModelLoadException(dir + ": holds several llama2.c checkpoints (" + names(bins)
                    + "); give the .bin file itself");
        }
        return bins.isEmpty() ? null : bins.get(0);
    }

    private static boolean isTokenizerBin(Path p) {
        String n = p.getFileName().toString();
        return n.equals("tokenizer.bin") || n.startsWith("tok");
    }

    private static String names(List<Path> paths) {
        return String.join(", ", paths.stream().map(p -> p.getFileName().toString()).toList());
    }

    // ---- llama2.c ---------------------------------------------------------------------------------------------

    /** llama2.c's version-0 header: seven little-endian int32s. */
    private static final int LEGACY_HEADER_BYTES = 28;
    /** "ak42": the magic of llama2.c's versioned (v1 fp32, v2 int8) exports. */
    private static final int VERSIONED_MAGIC = 0x616b3432;

    static LlamaModel loadLlama2c(Path bin, Device device) {
        NDManager manager = DecoderModel.newModelManager(device, "llama2c:" + bin.getFileName());
        try (FileChannel ch = FileChannel.open(bin, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < LEGACY_HEADER_BYTES) {
                throw new ModelLoadException(bin + ": too short for a llama2.c checkpoint (" + size + " bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate(LEGACY_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, header, 0, bin);
            header.flip();
            if (header.getInt(0) == VERSIONED_MAGIC) {
                throw new ModelLoadException(bin + ": llama2.c version " + header.getInt(4) + " export; only the"
                        + " legacy format (export.py --version 0) is supported");
            }
            int dim = header.getInt();
            int hidden = header.getInt();
            int nLayers = header.getInt();
            int nHeads = header.getInt();
            int nKv = header.getInt();
            int vocabSigned = header.getInt();
            int seqLen = header.getInt();
            boolean shared = vocabSigned > 0;
            int vocab = Math.abs(vocabSigned);
            if (dim <= 0 || hidden <= 0 || nLayers <= 0 || nHeads <= 0 || nKv <= 0 || vocab == 0 || seqLen <= 0
                    || dim % nHeads != 0 || nHeads % nKv != 0) {
                throw new ModelLoadException(bin + ": not a llama2.c checkpoint (header dim=" + dim + " hidden="
                        + hidden + " layers=" + nLayers + " heads=" + nHeads + " kv_heads=" + nKv + " vocab="
                        + vocabSigned + " seq_len=" + seqLen + ")");
            }
            int hd = dim / nHeads;
            int kvDim = nKv * hd;
            // llama2.c trains on BOS-delimited stories and run.c stops generating at BOS: it ends a sequence
            // just as EOS does, so both are stop ids (EOS first, the tokenizer's end token).
            LlamaConfig config = new LlamaConfig(dim, hidden, nLayers, nHeads, nKv, hd, vocab, seqLen, 1e-5, 10000.0,
                    null, shared, RotaryLayout.INTERLEAVED, Llama2cTokenizer.BOS_ID,
                    List.of(Llama2cTokenizer.EOS_ID, Llama2cTokenizer.BOS_ID), -1);

            long floats = (long) vocab * dim + (long) nLayers * dim * 2 // embeddings, both norms
                    + (long) nLayers * dim * (dim + 2L * kvDim) + (long) nLayers * dim * dim // wq wk wv, wo
                    + (long) nLayers * hidden * dim * 3 + dim // w1 w2 w3, final norm
                    + (long) seqLen * hd; // freq_cis real + imag, (seq_len, hd/2) each
            if (!shared) {
                floats += (long) vocab * dim;
            }
            long expected = LEGACY_HEADER_BYTES + floats * 4;
            if (size < expected) {
                throw new ModelLoadException(bin + ": is " + size + " bytes but its header (dim=" + dim + ", layers="
                        + nLayers + ", vocab=" + vocab + ") needs " + expected + "; the file is truncated or not a"
                        + " llama2.c checkpoint");
            }

            Map<String, NDArray> w = new HashMap<>();
            long[] pos = {LEGACY_HEADER_BYTES};
            Reader r = (name, shape) -> {
                NDArray a = readF32(ch, manager, pos[0], shape, bin);
                pos[0] += 4 * shape.size();
                w.put(name, a);
            };
            r.read("model.embed_tokens.weight", new Shape(vocab, dim));
            for (int l = 0; l < nLayers; l++) {
                r.read(layer(l, "input_layernorm"), new Shape(dim));
            }
            String[] proj = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"};
            Shape[] projShape = {new Shape(dim, dim), new Shape(kvDim, dim), new Shape(kvDim, dim),
                new Shape(dim, dim)};
            for (int k = 0; k < proj.length; k++) {
                for (int l = 0; l < nLayers; l++) {
                    r.read(layer(l, proj[k]), projShape[k]);
                }
            }
            for (int l = 0; l < nLayers; l++) {
                r.read(layer(l, "post_attention_layernorm"), new Shape(dim));
            }
            // llama2.c's w1/w2/w3 are gate/down/up.
            String[] mlp = {"mlp.gate_proj", "mlp.down_proj", "mlp.up_proj"};
            Shape[] mlpShape = {new Shape(hidden, dim), new Shape(dim, hidden), new Shape(hidden, dim)};
            for (int k = 0; k < mlp.length; k++) {
                for (int l = 0; l < nLayers; l++) {
                    r.read(layer(l, mlp[k]), mlpShape[k]);
                }
            }
            r.read("model.norm.weight", new Shape(dim));
            pos[0] += 4L * seqLen * hd; // freq_cis tables: run.c recomputes them, so do we
            if (!shared) {
                r.read("lm_head.weight", new Shape(vocab, dim));
            }
            TextTokenizer tok = loadTokenizerNextTo(bin, vocab);
            return LlamaModel.of(config, tok, w, manager);
        } catch (IOException e) {
            manager.close();
            throw new ModelLoadException(oneLine(e, bin), e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @FunctionalInterface
    private interface Reader {
        void read(String name, Shape shape) throws IOException;
    }

    private static String layer(int l, String module) {
        return "model.layers." + l + "." + module + ".weight";
    }

    private static NDArray readF32(FileChannel ch, NDManager m, long position, Shape shape, Path file)
            throws IOException {
        long bytes = shape.size() * 4;
        if (bytes > Integer.MAX_VALUE - 16) {
            throw new FileFormatException(file, "a tensor larger than 2 GiB is not supported");
        }
        ByteBuffer buf = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buf, position, file);
        buf.flip();
        return Tensors.of(m, buf.order(ByteOrder.nativeOrder()), shape, DataType.FLOAT32);
    }

    private static TextTokenizer loadTokenizerNextTo(Path bin, int vocab) throws IOException {
        Path dir = bin.toAbsolutePath().getParent();
        Path named = dir.resolve("tokenizer.bin");
        List<Path> candidates = new ArrayList<>();
        if (Files.isRegularFile(named)) {
            candidates.add(named);
        } else {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> {
                    String n = p.getFileName().toString();
                    return n.startsWith("tok") && n.endsWith(".bin");
                }).sorted().forEach(candidates::add);
            }
        }
        if (candidates.size() > 1) {
            throw new ModelLoadException(dir + ": several llama2.c tokenizers (" + names(candidates)
                    + "); keep one, or name it tokenizer.bin");
        }
        if (candidates.size() == 1) {
            Llama2cTokenizer tok = Llama2cTokenizer.load(candidates.get(0), vocab);
            return tok;
        }
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            return HfTokenizer.load(json, Llama2cTokenizer.BOS_ID, Llama2cTokenizer.EOS_ID, -1);
        }
        throw new ModelLoadException(dir + ": no tokenizer next to " + bin.getFileName()
                + " (expected tokenizer.bin, a tok*.bin or tokenizer.json)");
    }

    // ---- Hugging Face -----------------------------------------------------------------------------------------

    /** A llama2.c model (always read as float32) with its weights converted to {@code type}. */
    private static DecoderModel narrowed(LlamaModel model, DataType type) {
        if (type == DataType.FLOAT32) {
            return model;
        }
        try {
            Map<String, NDArray> weights = new LinkedHashMap<>();
            NDManager manager = DecoderModel.newModelManager(model.device(), "llama2c-" + type);
            for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
                NDArray w = e.getValue().toType(type, false);
                w.attach(manager);
                weights.put(e.getKey(), w);
            }
            return DecoderModel.create(model.config(), model.tokenizer(), true, weights, manager);
        } finally {
            model.clearAdapters();
            model.manager().close(); // the float32 weights; the tokenizer passes to the new model
        }
    }

    static DecoderModel loadHf(Path dir, Device device) {
        return loadHf(dir, device, DataType.FLOAT32);
    }

    /**
     * The floating type most of the checkpoint's weights are stored in (by element count): float32, float16 or
     * bfloat16 (float64 counts as float32).
     */
    static DataType storedFloatType(java.util.Collection<SafetensorsFile> files, java.util.Set<String> names) {
        Map<DataType, Long> elements = new java.util.EnumMap<>(DataType.class);
        for (SafetensorsFile f : files) {
            for (String name : names) {
                if (!f.contains(name)) {
                    continue;
                }
                DataType t = switch (f.entry(name).dtype()) {
                    case "F16" -> DataType.FLOAT16;
                    case "BF16" -> DataType.BFLOAT16;
                    default -> DataType.FLOAT32;
                };
                long n = 1;
                for (long d : f.entry(name).shape()) {
                    n *= d;
                }
                elements.merge(t, n, Long::sum);
            }
        }
        return elements.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElse(DataType.FLOAT32);
    }

    static DecoderModel loadHf(Path dir, Device device, DataType weightType) {
        Path configFile = dir.resolve("config.json");
        ModelConfig config;
        try {
            config = ModelConfig.fromHfJson(JSON.readTree(configFile.toFile()));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(configFile + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ModelLoadException(configFile + ": not valid JSON (" + firstLine(e.getMessage()) + ")", e);
        }

        Map<String, Path> fileOf = weightFiles(dir);
        Map<Path, SafetensorsFile> open = new LinkedHashMap<>();
        NDManager manager = DecoderModel.newModelManager(device, "hf:" + dir.getFileName());
        TextTokenizer tok = null;
        try {
            for (Path f : new java.util.LinkedHashSet<>(fileOf.values())) {
                try {
                    open.put(f, SafetensorsFile.open(f));
                } catch (NoSuchFileException e) {
                    throw new ModelLoadException(f + ": file not found (listed in model.safetensors.index.json)", e);
                }
            }
            Map<String, NDArray> weights = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : config.parameterShapes().entrySet()) {
                String name = e.getKey();
                Path file = fileOf.get(name);
                SafetensorsFile st = file == null ? null : open.get(file);
                if (st == null || !st.contains(name)) {
                    Path where = file != null ? file : fileOf.values().iterator().next();
                    throw new ModelLoadException(where + ": tensor '" + name + "' is missing");
                }
                long[] actual = st.entry(name).shape();
                if (!Arrays.equals(actual, e.getValue())) {
                    throw new ModelLoadException(file + ": tensor '" + name + "' has shape "
                            + Arrays.toString(actual) + " but config.json implies " + Arrays.toString(e.getValue()));
                }
                NDArray w = st.readFloat32(manager, name);
                if (weightType != DataType.FLOAT32) {
                    NDArray narrow = w.toType(weightType, false);
                    w.close();
                    w = narrow;
                }
                weights.put(name, w);
            }
            for (Map.Entry<String, Path> e : fileOf.entrySet()) {
                if (!weights.containsKey(e.getKey()) && !isBuffer(e.getKey())
                        && !(config.tieWordEmbeddings() && e.getKey().equals("lm_head.weight"))) {
                    LOG.warn("event=unused_tensor file={} tensor={}", e.getValue().getFileName(), e.getKey());
                }
            }
            tok = loadHfTokenizer(dir, config);
            DecoderModel model = DecoderModel.of(config, tok, weights, manager);
            // Exports keep the checkpoint's type, unless the weights are held as float16 (then float16: widening
            // rounded weights gains nothing, and bfloat16 cannot hold float16's precision).
            model.exportAs(weightType == DataType.FLOAT16 ? DataType.FLOAT16
                    : storedFloatType(open.values(), config.parameterShapes().keySet()));
            return model;
        } catch (IOException e) {
            manager.close();
            closeQuietly(tok);
            throw new ModelLoadException(oneLine(e, dir), e);
        } catch (RuntimeException e) {
            manager.close();
            closeQuietly(tok);
            throw e;
        } finally {
            for (SafetensorsFile f : open.values()) {
                try {
                    f.close();
                } catch (IOException ignored) {
                    // read-only handles: nothing to lose
                }
            }
        }
    }

    /**
     * Tensors that older checkpoints saved although they are computed, not trained: rotary frequencies and
     * GPT-Neo's causal-mask buffers.
     */
    private static boolean isBuffer(String name) {
        return name.endsWith("rotary_emb.inv_freq") || name.endsWith(".attn.attention.bias")
                || name.endsWith(".attn.attention.masked_bias");
    }

    /** Tensor name to the safetensors file holding it. */
    private static Map<String, Path> weightFiles(Path dir) {
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        Map<String, Path> map = new LinkedHashMap<>();
        if (Files.isRegularFile(index)) {
            JsonNode root;
            try {
                root = JSON.readTree(index.toFile());
            } catch (IOException e) {
                throw new ModelLoadException(index + ": not valid JSON (" + firstLine(e.getMessage()) + ")", e);
            }
            JsonNode weightMap = root.get("weight_map");
            if (weightMap == null || !weightMap.isObject() || weightMap.size() == 0) {
                throw new ModelLoadException(index + ": has no weight_map");
            }
            for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
                map.put(e.getKey(), dir.resolve(e.getValue().asText()));
            }
            return map;
        }
        if (Files.isRegularFile(single)) {
            try (SafetensorsFile f = SafetensorsFile.open(single)) {
                for (SafetensorsFile.Entry e : f.entries()) {
                    map.put(e.name(), single);
                }
            } catch (IOException e) {
                throw new ModelLoadException(oneLine(e, single), e);
            }
            return map;
        }
        if (Files.isRegularFile(dir.resolve("pytorch_model.bin"))
                || Files.isRegularFile(dir.resolve("pytorch_model.bin.index.json"))) {
            throw new ModelLoadException(dir.resolve("pytorch_model.bin") + ": PyTorch pickle weights are not"
                    + " supported; save the model with safe_serialization=True (model.safetensors)");
        }
        throw new ModelLoadException(single + ": file not found (nor model.safetensors.index.json)");
    }

    private static TextTokenizer loadHfTokenizer(Path dir, ModelConfig config) throws IOException {
        Path json = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            String hint = Files.isRegularFile(dir.resolve("tokenizer.model"))
                    ? " (only a SentencePiece tokenizer.model is there; save the fast tokenizer to get tokenizer.json)"
                    : "";
            throw new ModelLoadException(json + ": file not found" + hint);
        }
        HfTokenizer tok = HfTokenizer.load(json, config.bosTokenId(), config.eosTokenId(), config.padTokenId());
        if (tok.vocabSize() > config.vocabSize()) {
            tok.close();
            throw new ModelLoadException(json + ": has " + tok.vocabSize() + " tokens but config.json's vocab_size"
                    + " is " + config.vocabSize());
        }
        return tok;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                throw new FileFormatException(file, "unexpected end of file");
            }
            p += n;
        }
    }

    private static void closeQuietly(TextTokenizer tok) {
        if (tok instanceof AutoCloseable) {
            try {
                ((AutoCloseable) tok).close();
            } catch (Exception ignored) {
                // already failing; the original error matters
            }
        }
    }

    /** An IOException as one line that names the file. */
    private static String oneLine(IOException e, Path file) {
        if (e instanceof FileFormatException) {
            return firstLine(e.getMessage()); // already "FILE: problem"
        }
        if (e instanceof NoSuchFileException) {
            return ((NoSuchFileException) e).getFile() + ": file not found";
        }
        if (e instanceof FileSystemException && ((FileSystemException) e).getFile() != null) {
            FileSystemException f = (FileSystemException) e;
            return f.getFile() + ": " + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName());
        }
        return file + ": " + firstLine(e.getMessage());
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no detail";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
