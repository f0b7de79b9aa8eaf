package dev.loku.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.testing.RawSafetensors;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsOrderMetadataValuesAndAlignment() throws Exception {
        Path file = dir.resolve("t.safetensors");
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            // Names chosen so that neither alphabetical nor hash order equals insertion order.
            tensors.put("zeta.weight", m.create(new float[] {1, -2.5f, 3, 4e-8f, Float.MAX_VALUE, -0f},
                    new Shape(2, 3)));
            tensors.put("alpha.count", m.create(new long[] {7, -1, Long.MAX_VALUE}));
            tensors.put("mid.ids", m.create(new int[] {5, 6}, new Shape(1, 2)));
            tensors.put("scalar", m.create(new float[] {42f}, new Shape()));
            SafetensorsWriter.write(file, tensors, Map.of("format", "pt", "note", "fisher f_cnt=12"));

            byte[] bytes = Files.readAllBytes(file);
            long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, (8 + headerLen) % 8, "data must start 8-byte aligned");

            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                assertEquals(List.of("zeta.weight", "alpha.count", "mid.ids", "scalar"),
                        st.entries().stream().map(SafetensorsFile.Entry::name).toList());
                assertEquals("fisher f_cnt=12", st.metadata().get("note"));
                assertEquals("pt", st.metadata().get("format"));
                assertEquals("F32", st.entry("zeta.weight").dtype());
                assertEquals("I64", st.entry("alpha.count").dtype());
                assertEquals("I32", st.entry("mid.ids").dtype());
                assertArrayEquals(new long[] {2, 3}, st.entry("zeta.weight").shape());
                assertArrayEquals(new long[0], st.entry("scalar").shape());
                assertArrayEquals(tensors.get("zeta.weight").toFloatArray(), st.readFloats("zeta.weight"));
                assertArrayEquals(new long[] {7, -1, Long.MAX_VALUE},
                        st.read(m, "alpha.count").toLongArray());
                NDArray ids = st.read(m, "mid.ids");
                assertEquals(DataType.INT32, ids.getDataType());
                assertEquals(new Shape(1, 2), ids.getShape());
                assertEquals(42f, st.readFloat32(m, "scalar").getFloat());
                assertFalse(st.contains("nope"));
            }
            // DJL's own decoder (independent of our reader) sees the same tensors.
            try (InputStream in = Files.newInputStream(file)) {
                NDList decoded = NDList.decode(m, in);
                assertEquals(4, decoded.size());
                assertTrue(decoded.get("zeta.weight").contentEquals(tensors.get("zeta.weight")));
                assertTrue(decoded.get("alpha.count").contentEquals(tensors.get("alpha.count")));
            }
        }
    }

    @Test
    void halfPrecisionTypesWidenToFloat32() throws Exception {
        Path file = dir.resolve("half.safetensors");
        float[] exactInBf16 = {1f, -2f, 0.5f, 3.140625f, -0.0009765625f, 65536f};
        new RawSafetensors()
                .put("b", "BF16", new long[] {2, 3}, RawSafetensors.bf16(exactInBf16))
                // 1.0, -2.0, 0.5, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), +inf
                .put("h", "F16", new long[] {7}, RawSafetensors.f16((short) 0x3C00, (short) 0xC000, (short) 0x3800,
                        (short) 0x7BFF, (short) 0x0001, (short) 0x0400, (short) 0x7C00))
                .put("d", "F64", new long[] {2}, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                        .putDouble(0.25).putDouble(-7.5).array())
                .write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            assertArrayEquals(exactInBf16, st.readFloats("b"));
            NDArray b = st.readFloat32(m, "b");
            assertEquals(DataType.FLOAT32, b.getDataType());
            assertEquals(new Shape(2, 3), b.getShape());
            assertArrayEquals(new float[] {1f, -2f, 0.5f, 65504f, 0x1p-24f, 0x1p-14f, Float.POSITIVE_INFINITY},
                    st.readFloats("h"));
            assertArrayEquals(new float[] {0.25f, -7.5f}, st.readFloats("d"));
        }
    }

    @Test
    void corruptFilesFailWithTheFileName() throws Exception {
        Path missing = dir.resolve("missing.safetensors");
        NoSuchFileException nsf = assertThrows(NoSuchFileException.class, () -> SafetensorsFile.open(missing));
        assertTrue(nsf.getMessage().contains("missing.safetensors"));

        Path garbage = dir.resolve("garbage.safetensors");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        FileFormatException e = assertThrows(FileFormatException.class, () -> SafetensorsFile.open(garbage));
        assertTrue(e.getMessage().startsWith(garbage.toString()), e.getMessage());

        Path truncated = dir.resolve("truncated.safetensors");
        new RawSafetensors().put("w", "F32", new long[] {4}, RawSafetensors.f32(new float[] {1, 2, 3, 4}))
                .write(truncated);
        byte[] all = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(all, all.length - 4));
        e = assertThrows(FileFormatException.class, () -> SafetensorsFile.open(truncated));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("truncated.safetensors"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @org.junit.jupiter.api.Test
    void bfloat16RoundsToNearestTiesToEvenAndKeepsSpecialValues() {
        assertEquals((short) 0x3F80, SafetensorsWriter.bfloat16Bits(1.0f));
        assertEquals((short) 0x3F80, SafetensorsWriter.bfloat16Bits(Float.intBitsToFloat(0x3F807FFF)), "below half");
        assertEquals((short) 0x3F81, SafetensorsWriter.bfloat16Bits(Float.intBitsToFloat(0x3F808001)), "above half");
        assertEquals((short) 0x3F80, SafetensorsWriter.bfloat16Bits(Float.intBitsToFloat(0x3F808000)), "tie to even");
        assertEquals((short) 0x3F82, SafetensorsWriter.bfloat16Bits(Float.intBitsToFloat(0x3F818000)), "tie to even");
        assertEquals((short) 0xC040, SafetensorsWriter.bfloat16Bits(-3.0f));
        assertEquals((short) 0x8000, SafetensorsWriter.bfloat16Bits(-0.0f));
        assertEquals((short) 0x7F80, SafetensorsWriter.bfloat16Bits(Float.POSITIVE_INFINITY));
        assertEquals((short) 0x7F80, SafetensorsWriter.bfloat16Bits(Float.MAX_VALUE), "past the largest: infinity");
        assertEquals((short) 0xFF80, SafetensorsWriter.bfloat16Bits(-Float.MAX_VALUE));
        assertTrue(Float.isNaN(Float.intBitsToFloat(SafetensorsWriter.bfloat16Bits(Float.NaN) << 16)));
        assertTrue(Float.isNaN(Float.intBitsToFloat(SafetensorsWriter.bfloat16Bits(Float.intBitsToFloat(0x7F800001)) << 16)),
                "a NaN whose payload is in the low half stays NaN");
    }
}
