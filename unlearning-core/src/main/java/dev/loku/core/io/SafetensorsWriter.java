package dev.loku.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * Writes safetensors files: tensors in the caller's order, an optional {@code __metadata__} map of strings, the
 * header padded with spaces so that the data section starts on an 8-byte boundary (as the format recommends).
 * Tensors are streamed one at a time; the file appears atomically (written to a temporary name, then moved).
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} (name to array, in iteration order). Supported dtypes: float32, float64, float16,
     * bfloat16, int64, int32, int8, uint8, boolean.
     */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        write(path, tensors, metadata, null);
    }

    /**
     * As {@link #write(Path, Map, Map)}, with every float32 tensor stored as {@code floatsAs} (float32, float16 or
     * bfloat16; null keeps each tensor's own type), rounded to nearest, ties to even, as PyTorch's {@code .to()}
     * rounds. The conversion happens while the bytes are streamed, so no second copy of a tensor is made; bfloat16
     * is written from the float32 bits, so it needs no bfloat16 array (DJL 0.36's PyTorch JNI has none).
     */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata,
                             DataType floatsAs) throws IOException {
        if (floatsAs != null && floatsAs != DataType.FLOAT32 && floatsAs != DataType.FLOAT16
                && floatsAs != DataType.BFLOAT16) {
            throw new IllegalArgumentException("float32 tensors can be stored as float32, float16 or bfloat16, not "
                    + floatsAs);
        }
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            if ("__metadata__".equals(e.getKey())) {
                throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
            }
            NDArray a = e.getValue();
            DataType stored = storedType(a, floatsAs);
            String dtype = dtypeName(stored);
            long bytes = a.size() * stored.getNumOfBytes();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", dtype);
            ArrayNode shape = entry.putArray("shape");
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            headerBytes[i] = ' ';
        }

        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            byte[] chunk = new byte[1 << 20];
            for (NDArray a : tensors.values()) {
                if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN && a.getDataType().getNumOfBytes() > 1) {
                    throw new IOException("writing safetensors on a big-endian host is not supported");
                }
                DataType stored = storedType(a, floatsAs);
                if (stored == a.getDataType()) {
                    copy(a.toByteBuffer().order(ByteOrder.nativeOrder()), out, chunk);
                } else if (stored == DataType.BFLOAT16) {
                    writeBfloat16(a.toByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer(), out, chunk);
                } else {
                    try (NDArray narrow = a.toType(stored, false)) {
                        copy(narrow.toByteBuffer().order(ByteOrder.nativeOrder()), out, chunk);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static DataType storedType(NDArray a, DataType floatsAs) {
        return floatsAs != null && a.getDataType() == DataType.FLOAT32 ? floatsAs : a.getDataType();
    }

    private static void copy(ByteBuffer data, OutputStream out, byte[] chunk) throws IOException {
        while (data.hasRemaining()) {
            int n = Math.min(chunk.length, data.remaining());
            data.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    private static void writeBfloat16(java.nio.FloatBuffer floats, OutputStream out, byte[] chunk) throws IOException {
        int n = 0;
        while (floats.hasRemaining()) {
            short b = bfloat16Bits(floats.get());
            chunk[n++] = (byte) b;          // little-endian, as safetensors stores every type
            chunk[n++] = (byte) (b >>> 8);
            if (n == chunk.length) {
                out.write(chunk, 0, n);
                n = 0;
            }
        }
        out.write(chunk, 0, n);
    }

    /**
     * The bfloat16 nearest to {@code f} (ties to even), as its 16 bits: the top half of the float32 after rounding
     * the bottom half away. NaN stays NaN (quiet); infinities and signed zeros are kept; values past the largest
     * bfloat16 round to infinity, as in PyTorch.
     */
    public static short bfloat16Bits(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /** The size in bytes of the file {@link #write} would produce for these tensors, without metadata. */
    public static long dataBytes(Map<String, NDArray> tensors) {
        return dataBytes(tensors, null);
    }

    /** As {@link #dataBytes(Map)}, with float32 tensors stored as {@code floatsAs} (null: their own type). */
    public static long dataBytes(Map<String, NDArray> tensors, DataType floatsAs) {
        long total = 0;
        for (NDArray a : tensors.values()) {
            total += a.size() * storedType(a, floatsAs).getNumOfBytes();
        }
        return total;
    }

    static String dtypeName(DataType type) {
        switch (type) {
            case FLOAT32:
                return "F32";
            case FLOAT64:
                return "F64";
            case FLOAT16:
                return "F16";
            case BFLOAT16:
                return "BF16";
            case INT64:
                return "I64";
            case INT32:
                return "I32";
            case INT8:
                return "I8";
            case UINT8:
                return "U8";
            case BOOLEAN:
                return "BOOL";
            default:
                throw new IllegalArgumentException("safetensors cannot store dtype " + type);
        }
    }
}
