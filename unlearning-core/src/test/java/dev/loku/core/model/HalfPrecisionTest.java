package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.lora.LoraConfig;
import dev.loku.core.lora.LoraModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Weights held in float16 on every family's fixture: the logits stay within half-precision rounding of the float32
 * model's (which matches transformers to 1e-4, {@link FamilyFixtureTest}), LoRA gradients flow through the
 * float32 softmax, norms and adapter sums (the casts are differentiable), and an export keeps float16.
 */
class HalfPrecisionTest {

    /**
     * Half precision keeps 11 significant bits (relative 4.9e-4 per rounding); a few layers of rounded products and
     * activations add up to about 1e-2 of the largest logit, well below what would change a prediction.
     */
    private static final double LOGIT_TOLERANCE = 2e-2;
    /** Gradients of the float32 adapters through a float16 base, relative to their largest element. */
    private static final double GRADIENT_TOLERANCE = 5e-2;

    @TempDir
    Path tmp;

    static java.util.stream.Stream<FamilyFixtureTest.Fixture> fixtures() throws java.io.IOException {
        return FamilyFixtureTest.fixtures();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void float16LogitsStayWithinHalfPrecisionOfFloat32(FamilyFixtureTest.Fixture fx) {
        Path dir = fx.dir().resolve("model");
        try (DecoderModel full = ModelLoader.load(dir, Device.cpu());
                DecoderModel half = ModelLoader.load(dir, Device.cpu(), DataType.FLOAT16);
                NDManager m = NDManager.newBaseManager(Device.cpu())) {
            assertEquals(DataType.FLOAT16, half.weightType());
            for (NDArray w : half.parameters().values()) {
                assertEquals(DataType.FLOAT16, w.getDataType(), w.getName());
            }
            TokenBatch batch = TokenBatch.of(fx.prompts(), TokenBatch.Padding.RIGHT, full.tokenizer().padId());
            float[] a = full.logits(m, batch).toFloatArray();
            float[] b = half.logits(m, batch).toType(DataType.FLOAT32, false).toFloatArray();
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                scale = Math.max(scale, Math.abs(a[i]));
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            assertTrue(diff <= LOGIT_TOLERANCE * scale, fx + ": max |fp16 - fp32| " + diff + " over max |logit| "
                    + scale);
            assertTrue(diff > 0, fx + ": identical logits, so the float16 model did not compute in float16");
            // Log-probabilities are float32 whatever the weights.
            assertEquals(DataType.FLOAT32, half.tokenLogProbs(m, batch).getDataType());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void loraGradientsFlowThroughAFloat16Base(FamilyFixtureTest.Fixture fx) {
        Path dir = fx.dir().resolve("model");
        float[][] grads = new float[2][];
        for (int k = 0; k < 2; k++) {
            try (DecoderModel model = ModelLoader.load(dir, Device.cpu(), k == 0 ? DataType.FLOAT32
                    : DataType.FLOAT16);
                    LoraModel lora = LoraModel.attach(model, LoraConfig.defaults(4), 3);
                    NDManager m = NDManager.newBaseManager(Device.cpu())) {
                // B = 0 at attach would leave A without a gradient: give B values so that both factors get one.
                for (Map.Entry<String, NDArray> e : lora.trainableParameters().entrySet()) {
                    if (e.getKey().contains("lora_B")) {
                        NDArray w = e.getValue();
                        try (NoGrad ignored = NoGrad.enter()) {
                            w.addi(0.05f);
                        }
                    }
                }
                TokenBatch batch = TokenBatch.of(fx.prompts(), TokenBatch.Padding.RIGHT, model.tokenizer().padId());
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(model.meanNll(m, batch));
                }
                List<NDArray> params = List.copyOf(lora.trainableParameters().values());
                int n = 0;
                for (NDArray p : params) {
                    n += (int) p.size();
                }
                grads[k] = new float[n];
                int at = 0;
                for (NDArray p : params) {
                    assertEquals(DataType.FLOAT32, p.getDataType(), "adapters stay float32");
                    float[] g = p.getGradient().toFloatArray();
                    System.arraycopy(g, 0, grads[k], at, g.length);
                    at += g.length;
                }
            }
        }
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < grads[0].length; i++) {
            scale = Math.max(scale, Math.abs(grads[0][i]));
            diff = Math.max(diff, Math.abs(grads[0][i] - grads[1][i]));
        }
        assertTrue(scale > 0, fx + ": the float32 adapters got no gradient");
        assertTrue(diff <= GRADIENT_TOLERANCE * scale, fx + ": max |grad fp16 - grad fp32| " + diff + " over "
                + scale);
    }

    @Test
    void aFloat16ModelExportsFloat16() throws Exception {
        FamilyFixtureTest.Fixture fx = FamilyFixtureTest.fixtures().findFirst().orElseThrow();
        Path out = tmp.resolve("half");
        try (DecoderModel half = ModelLoader.load(fx.dir().resolve("model"), Device.cpu(), DataType.FLOAT16);
                NDManager m = NDManager.newBaseManager(Device.cpu())) {
            HfExporter.export(half, out);
            try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                for (SafetensorsFile.Entry e : f.entries()) {
                    assertEquals("F16", e.dtype(), e.name());
                }
            }
            assertEquals("float16", new ObjectMapper().readTree(out.resolve("config.json").toFile())
                    .get("torch_dtype").asText());
            TokenBatch batch = TokenBatch.of(fx.prompts(), TokenBatch.Padding.RIGHT, half.tokenizer().padId());
            try (DecoderModel back = ModelLoader.load(out, Device.cpu(), DataType.FLOAT16)) {
                float[] a = half.logits(m, batch).toType(DataType.FLOAT32, false).toFloatArray();
                float[] b = back.logits(m, batch).toType(DataType.FLOAT32, false).toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 0.0, "float16 round trip, logit " + i);
                }
            }
        }
        assertTrue(Files.isRegularFile(out.resolve("config.json")));
    }

    @Test
    void bfloat16IsRefusedInOneLine() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> ModelLoader.load(tmp, Device.cpu(), DataType.BFLOAT16));
        assertTrue(e.getMessage().contains("bfloat16"), e.getMessage());
    }
}
