package dev.loku.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.tensor.Tensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
 * and byte range, then the raw tensor bytes. Unlike DJL's {@code NDList.decode} this keeps the file's order and the
 * {@code __metadata__} map (Fisher files and PEFT adapters carry information there), reads one tensor at a time so
 * a sharded multi-gigabyte checkpoint never has to fit in the Java heap, and widens F16/BF16 to float32.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** One tensor's header entry; {@code begin}/{@code end} are offsets into the data section. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        public Shape djlShape() {
            return new Shape(shape);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Headers are small JSON; anything larger means the file is not safetensors. */
    private static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /**
     * Opens and validates the header. Every problem is reported as an {@link IOException} whose message starts with
     * the file name, so callers can show it to a user as it is.
     */
    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "file not found");
        }
        try {
            long size = channel.size();
            if (size < 8) {
                throw new FileFormatException(path, "not a safetensors file (only " + size + " bytes)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lenBuf, 0, path);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
                throw new FileFormatException(path, "not a safetensors file (header length " + headerLen + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(channel, header, 8, path);
            JsonNode root;
            try {
                root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new FileFormatException(path, "safetensors header is not valid JSON", e);
            }
            if (root == null || !root.isObject()) {
                throw new FileFormatException(path, "safetensors header is not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            List<Entry> list = new ArrayList<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> field : root.properties()) {
                if ("__metadata__".equals(field.getKey())) {
                    field.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                list.add(parseEntry(path, field.getKey(), field.getValue(), dataSize));
            }
            list.sort(Comparator.comparingLong(Entry::begin));
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Entry e : list) {
                entries.put(e.name(), e);
            }
            return new SafetensorsFile(path, channel, dataStart, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) throws IOException {
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || shape == null || offsets == null || !shape.isArray() || offsets.size() != 2) {
            throw new FileFormatException(path, "tensor '" + name + "' has a malformed header entry");
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).asLong();
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        Entry e = new Entry(name, dtype.asText(), dims, begin, end);
        int width = bytesPerElement(e.dtype());
        if (width < 0) {
            throw new FileFormatException(path, "tensor '" + name + "' has unsupported dtype " + e.dtype());
        }
        if (begin < 0 || end < begin || end > dataSize || (end - begin) != e.elementCount() * width) {
            throw new FileFormatException(path, "tensor '" + name + "' has data_offsets [" + begin + ", " + end
                    + "] inconsistent with dtype " + e.dtype() + " shape " + java.util.Arrays.toString(dims)
                    + " or the file size");
        }
        return e;
    }

    /** Bytes per element of a safetensors dtype, or -1 if unsupported. */
    static int bytesPerElement(String dtype) {
        switch (dtype) {
            case "F64":
            case "I64":
            case "U64":
                return 8;
            case "F32":
            case "I32":
            case "U32":
                return 4;
            case "F16":
            case "BF16":
            case "I16":
            case "U16":
                return 2;
            case "I8":
            case "U8":
            case "BOOL":
                return 1;
            default:
                return -1;
        }
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensors in the order their bytes appear in the file. */
    public List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    /** The entry named {@code name}, or null. */
    public Entry entry(String name) {
        return entries.get(name);
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /**
     * Reads a floating-point tensor as float32 (F32 as is; F16, BF16 and F64 converted), created in {@code manager}.
     */
    public NDArray readFloat32(NDManager manager, String name) throws IOException {
        Entry e = require(name);
        ByteBuffer f32 = toFloat32(e, readRaw(e));
        return Tensors.of(manager, f32, e.djlShape(), DataType.FLOAT32);
    }

    /** Reads a floating-point tensor into a Java array (float32). */
    public float[] readFloats(String name) throws IOException {
        Entry e = require(name);
        ByteBuffer f32 = toFloat32(e, readRaw(e));
        float[] out = new float[(int) e.elementCount()];
        f32.asFloatBuffer().get(out);
        return out;
    }

    /**
     * Reads a tensor keeping integer types (I64, I32, I8, U8, BOOL map to DJL types); floating types come back as
     * float32 as in {@link #readFloat32}.
     */
    public NDArray read(NDManager manager, String name) throws IOException {
        Entry e = require(name);
        DataType type;
        switch (e.dtype()) {
            case "I64":
                type = DataType.INT64;
                break;
            case "I32":
                type = DataType.INT32;
                break;
            case "I8":
                type = DataType.INT8;
                break;
            case "U8":
                type = DataType.UINT8;
                break;
            case "BOOL":
                type = DataType.BOOLEAN;
                break;
            default:
                return readFloat32(manager, name);
        }
        return Tensors.of(manager, readRaw(e), e.djlShape(), type);
    }

    private Entry require(String name) throws IOException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new FileFormatException(path, "tensor '" + name + "' is missing");
        }
        return e;
    }

    private ByteBuffer readRaw(Entry e) throws IOException {
        long n = e.end() - e.begin();
        if (n > Integer.MAX_VALUE - 16) {
            throw new FileFormatException(path, "tensor '" + e.name() + "' is larger than 2 GiB, which is not supported");
        }
        ByteBuffer buf = ByteBuffer.allocateDirect((int) n).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, buf, dataStart + e.begin(), path);
        buf.flip();
        return buf;
    }

    /** Float32 values in native byte order, as libtorch expects them. */
    private ByteBuffer toFloat32(Entry e, ByteBuffer raw) throws IOException {
        int count = (int) e.elementCount();
        if ("F32".equals(e.dtype()) && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            return raw; // the file's bytes are already what libtorch expects
        }
        ByteBuffer out = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
        switch (e.dtype()) {
            case "F32":
                for (int i = 0; i < count; i++) {
                    out.putFloat(raw.getFloat(4 * i));
                }
                break;
            case "BF16":
                for (int i = 0; i < count; i++) {
                    // bfloat16 is the top half of a float32.
                    out.putInt((raw.getShort(2 * i) & 0xFFFF) << 16);
                }
                break;
            case "F16":
                for (int i = 0; i < count; i++) {
                    out.putFloat(HalfFloat.toFloat(raw.getShort(2 * i)));
                }
                break;
            case "F64":
                for (int i = 0; i < count; i++) {
                    out.putFloat((float) raw.getDouble(8 * i));
                }
                break;
            default:
                throw new FileFormatException(path, "tensor '" + e.name() + "' has dtype " + e.dtype()
                        + ", expected a floating-point type (F32, F16, BF16, F64)");
        }
        return out.flip();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new FileFormatException(path, "unexpected end of file");
            }
            pos += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
