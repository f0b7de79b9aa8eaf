package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.io.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A bfloat16 checkpoint, on every family's fixture: it loads (widened to float32, which DJL computes in), its logits
 * stay within bfloat16 rounding of the float32 model's, and an export writes bfloat16 again, bit for bit the
 * checkpoint's bytes when nothing changed. The bfloat16 file is made by the exporter from the float32 fixture; each
 * value is checked to be the bfloat16 nearest to the float32 one, by a bound the test computes itself.
 */
class Bfloat16CheckpointTest {

    /** bfloat16 keeps 8 significant bits (relative 3.9e-3 per rounding); only the weights are rounded here. */
    private static final double LOGIT_TOLERANCE = 5e-2;

    @TempDir
    Path tmp;

    static java.util.stream.Stream<FamilyFixtureTest.Fixture> fixtures() throws java.io.IOException {
        return FamilyFixtureTest.fixtures();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void aBfloat16CheckpointLoadsComputesAndExportsAsBfloat16(FamilyFixtureTest.Fixture fx) throws Exception {
        Path bf16 = tmp.resolve("bf16");
        Path again = tmp.resolve("again");
        try (DecoderModel full = ModelLoader.load(fx.dir().resolve("model"), Device.cpu());
                NDManager m = NDManager.newBaseManager(Device.cpu())) {
            assertEquals(DataType.FLOAT32, full.exportType(), "a float32 checkpoint exports float32");
            full.exportAs(DataType.BFLOAT16);
            HfExporter.export(full, bf16);
            assertEquals("bfloat16", new ObjectMapper().readTree(bf16.resolve("config.json").toFile())
                    .get("torch_dtype").asText());
            try (SafetensorsFile f = SafetensorsFile.open(bf16.resolve("model.safetensors"));
                    NDManager read = NDManager.newBaseManager(Device.cpu())) {
                Map<String, ai.djl.ndarray.NDArray> hf = HfExporter.hfTensors(full, read);
                for (SafetensorsFile.Entry e : f.entries()) {
                    assertEquals("BF16", e.dtype(), e.name());
                    float[] stored = f.readFloat32(read, e.name()).toFloatArray();
                    float[] exact = hf.get(e.name()).toFloatArray();
                    for (int i = 0; i < exact.length; i++) {
                        assertEquals(0, Float.floatToRawIntBits(stored[i]) & 0xFFFF, "a bfloat16 value: " + e.name());
                        // Round to nearest: within half a bfloat16 step (2^-8 of the binade) of the float32 value.
                        double halfStep = Math.ulp(exact[i]) * 65536 / 2;
                        assertTrue(Math.abs(stored[i] - exact[i]) <= halfStep, e.name() + "[" + i + "]: "
                                + exact[i] + " stored as " + stored[i]);
                    }
                }
            }

            try (DecoderModel back = ModelLoader.load(bf16, Device.cpu())) {
                assertEquals(DataType.FLOAT32, back.weightType(), "computed in float32");
                assertEquals(DataType.BFLOAT16, back.exportType(), "exported as its checkpoint was stored");
                TokenBatch batch = TokenBatch.of(fx.prompts(), TokenBatch.Padding.RIGHT, full.tokenizer().padId());
                float[] a = full.logits(m, batch).toFloatArray();
                float[] b = back.logits(m, batch).toFloatArray();
                double scale = 0;
                double diff = 0;
                for (int i = 0; i < a.length; i++) {
                    scale = Math.max(scale, Math.abs(a[i]));
                    diff = Math.max(diff, Math.abs(a[i] - b[i]));
                }
                assertTrue(diff <= LOGIT_TOLERANCE * scale, fx + ": max |logit bf16 - fp32| " + diff + " over " + scale);

                HfExporter.export(back, again);
                assertEquals(-1L, Files.mismatch(bf16.resolve("model.safetensors"), again.resolve("model.safetensors")),
                        "an unchanged bfloat16 model exports the checkpoint's bytes");
            }
            try (DecoderModel half = ModelLoader.load(bf16, Device.cpu(), DataType.FLOAT16)) {
                assertEquals(DataType.FLOAT16, half.exportType(), "held as float16, exported as float16");
            }
        }
    }
}
