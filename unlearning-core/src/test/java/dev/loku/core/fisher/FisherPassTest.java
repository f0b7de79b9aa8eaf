package dev.loku.core.fisher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.loku.core.data.EncodedExample;
import dev.loku.core.data.ExampleEncoder;
import dev.loku.core.data.JsonlRecords;
import dev.loku.core.data.ModelBatches;
import dev.loku.core.io.FileFormatException;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.LiveArrays;
import dev.loku.core.model.ModelLoader;
import dev.loku.core.objective.CausalLmLoss;
import dev.loku.core.objective.ScoredBatch;
import dev.loku.core.testing.ProjectFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Fisher pass on stories260K against a hand-rolled computation (logits from the model, the loss from
 * {@link CausalLmLoss} on {@link dev.loku.core.model.TokenBatch#labelsArray}, each batch's gradient squared and weighted by its label
 * count in double precision), plus the gradient bookkeeping and the importance file's round trip.
 */
class FisherPassTest {
    private static final List<String> WEIGHTS =
            List.of("model.layers.0.self_attn.q_proj.weight", "model.layers.4.mlp.down_proj.weight");

    @TempDir
    static Path tmp;

    private static CausalLm model;
    private static List<EncodedExample> forget;
    private static List<EncodedExample> retain;
    private static FisherImportance importance;

    @BeforeAll
    static void runPass() throws Exception {
        model = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
        var records = JsonlRecords.read(ProjectFiles.data("stories/stories.jsonl"));
        ExampleEncoder encoder = new ExampleEncoder(model.tokenizer(), 48);
        forget = encoder.encodeAll(records.subList(0, 5), "forget");
        retain = encoder.encodeAll(records.subList(10, 15), "retain");
        importance = FisherPass.run(model, forget, retain, WEIGHTS, 2,
                Map.of(FisherImportance.MODEL_SHA256, "m0"));
    }

    @AfterAll
    static void close() {
        importance.close();
        model.close();
    }

    @Test
    void sumsEqualSquaredBatchGradientsTimesLabelCountsComputedByHand() {
        for (boolean forgetSide : new boolean[] {true, false}) {
            List<EncodedExample> data = forgetSide ? forget : retain;
            for (String name : WEIGHTS) {
                double[] expected = handFisher(name, data, 2);
                float[] actual = (forgetSide ? importance.forgetSum(name) : importance.retainSum(name))
                        .toFloatArray();
                double maxExpected = Arrays.stream(expected).map(Math::abs).max().orElse(0);
                assertTrue(maxExpected > 0, "a zero Fisher would make this test vacuous");
                double maxErr = 0;
                for (int i = 0; i < actual.length; i++) {
                    maxErr = Math.max(maxErr, Math.abs(actual[i] - expected[i]));
                }
                assertTrue(maxErr <= 1e-4 * maxExpected, name + (forgetSide ? " forget" : " retain") + ": error "
                        + maxErr + " vs max " + maxExpected);
            }
        }
        long forgetTokens = forget.stream().mapToLong(EncodedExample::labelCount).sum();
        long retainTokens = retain.stream().mapToLong(EncodedExample::labelCount).sum();
        assertEquals(forgetTokens, importance.forgetCount());
        assertEquals(retainTokens, importance.retainCount());
        assertEquals(Long.toString(forgetTokens), importance.metadata().get("f_cnt"));
        assertEquals("m0", importance.metadata().get(FisherImportance.MODEL_SHA256));
        assertEquals("INTERLEAVED", importance.metadata().get(FisherPass.KEY_ROTARY_LAYOUT));
        assertEquals(new TreeSet<>(WEIGHTS), importance.names());
    }

    /** Σ_b n_b · (∂ meanNll_b / ∂W)², batches of {@code size} in order, in double precision. */
    private static double[] handFisher(String name, List<EncodedExample> data, int size) {
        NDArray w = model.parameter(name);
        double[] sum = new double[(int) w.size()];
        w.setRequiresGradient(true);
        try {
            for (List<EncodedExample> chunk : ModelBatches.chunks(data, size)) {
                long n;
                try (NDManager m = NDManager.newBaseManager()) {
                    var batch = ModelBatches.of(chunk, model.tokenizer().padId());
                    NDArray labels = batch.labelsArray(m);
                    n = CausalLmLoss.keptTokenCount(labels);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray logits = model.logits(m, batch);
                        gc.backward(CausalLmLoss.meanNll(new ScoredBatch(logits, labels)));
                    }
                }
                try (NDArray g = w.getGradient()) {
                    float[] gv = g.toFloatArray();
                    for (int i = 0; i < gv.length; i++) {
                        sum[i] += n * (double) gv[i] * gv[i];
                    }
                    g.subi(g);
                }
            }
        } finally {
            w.setRequiresGradient(false);
        }
        return sum;
    }

    @Test
    void gradientFlagsAreRestoredAndEveryProjectionIsTheDefault() throws Exception {
        NDArray keep = model.parameter("model.layers.1.mlp.up_proj.weight");
        keep.setRequiresGradient(true);
        try (FisherImportance all = FisherPass.run(model, forget.subList(0, 2), retain.subList(0, 2), null, 4,
                Map.of())) {
            assertEquals(7 * model.config().numLayers(), all.names().size());
            assertTrue(all.names().stream().allMatch(n -> n.endsWith("_proj.weight")));
            assertTrue(keep.hasGradient(), "a weight that required gradients before still does");
            model.parameters().forEach((n, p) -> {
                if (p != keep) {
                    assertFalse(p.hasGradient(), n + " left requiring gradients");
                }
            });
        } finally {
            keep.setRequiresGradient(false);
        }
    }

    @Test
    void thePassLeavesNoGradientBufferOnAnyWeightAndNoArrayBehind() throws Exception {
        try (CausalLm fresh = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu())) {
            // A weight that requires gradients but is not measured (as after full-weight training) gets none.
            NDArray embed = fresh.parameter("model.embed_tokens.weight");
            embed.setRequiresGradient(true);
            int live = LiveArrays.count();
            try (FisherImportance all = FisherPass.run(fresh, forget, retain, null, 2, Map.of())) {
                assertEquals(live + 2 * all.names().size(), LiveArrays.count(),
                        "only the forget and retain sums stay, no gradient handle");
                int buffers = 0;
                for (Map.Entry<String, NDArray> e : fresh.parameters().entrySet()) {
                    PtNDArray grad = JniUtils.getGradient((PtNDArray) e.getValue());
                    if (grad != null) {
                        buffers++;
                        grad.close();
                    }
                }
                assertEquals(0, buffers, "weights still holding a gradient buffer after the pass");
                assertTrue(embed.hasGradient(), "the frozen weight requires gradients again");
                assertTrue(fresh.parameters().values().stream().filter(p -> p != embed)
                        .noneMatch(NDArray::hasGradient));
                // The released weights are the ones the model computes with: the importance of a second pass is
                // the same.
                try (FisherImportance again = FisherPass.run(fresh, forget, retain, WEIGHTS, 2, Map.of())) {
                    for (String n : WEIGHTS) {
                        assertArrayEquals(all.forgetSum(n).toFloatArray(), again.forgetSum(n).toFloatArray(), n);
                    }
                }
            } finally {
                embed.setRequiresGradient(false);
            }
            assertEquals(live, LiveArrays.count(), "nothing left once the importance is closed");
        }
    }

    @Test
    void anInterruptedPassStopsAndRestoresTheWeights() {
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class,
                () -> FisherPass.run(model, forget, retain, WEIGHTS, 1, Map.of()));
        assertFalse(Thread.currentThread().isInterrupted(), "the flag is consumed with the exception");
        WEIGHTS.forEach(n -> assertFalse(model.parameter(n).hasGradient()));
        assertThrows(IllegalArgumentException.class, () -> FisherPass.run(model, List.of(), retain, WEIGHTS, 1,
                Map.of()));
    }

    @Test
    void saveAndLoadRoundTripAndCorruptFilesAreRejected() throws Exception {
        Path file = tmp.resolve("importance.safetensors");
        importance.save(file);
        try (NDManager m = NDManager.newBaseManager(); FisherImportance back = FisherImportance.load(file, m)) {
            // The loaded arrays must own their memory: the file's read buffers are garbage once load returns.
            churnDirectMemory(bytesOf(file));
            assertEquals(importance.names(), back.names());
            assertEquals(importance.metadata(), back.metadata());
            for (String n : WEIGHTS) {
                assertEquals(0.0, maxDiff(importance.forgetSum(n), back.forgetSum(n)));
                assertEquals(0.0, maxDiff(importance.retainSum(n), back.retainSum(n)));
                assertEquals(0.0, maxDiff(importance.relative(n), back.relative(n)));
            }
        }

        byte[] bytes = Files.readAllBytes(file);
        Path truncated = tmp.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 1000));
        Path garbage = tmp.resolve("garbage.safetensors");
        Files.writeString(garbage, "this is not a tensor file at all", StandardCharsets.UTF_8);
        // A valid safetensors file that is not an importance (no format marker): the model's own weights.
        Path weights = ProjectFiles.stories260K().resolve("stories260K.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            FileFormatException e = assertThrows(FileFormatException.class, () -> FisherImportance.load(truncated, m));
            assertTrue(e.getMessage().startsWith(truncated.toString()), e.getMessage());
            assertThrows(FileFormatException.class, () -> FisherImportance.load(garbage, m));
            FileFormatException notFisher = assertThrows(FileFormatException.class,
                    () -> FisherImportance.load(weights, m));
            assertTrue(notFisher.getMessage().contains("not a Fisher importance file"), notFisher.getMessage());
            assertThrows(IOException.class, () -> FisherImportance.load(tmp.resolve("missing"), m));
            assertEquals(0, m.getManagedArrays().size(), "failed loads leave no arrays behind");
        }
    }

    private static long bytesOf(Path file) throws IOException {
        return Files.size(file);
    }

    /** Lets the collector free unreachable direct buffers, then reuses that memory with 0xFF bytes (NaN). */
    private static void churnDirectMemory(long bytes) {
        for (int round = 0; round < 3; round++) {
            System.gc();
            List<java.nio.ByteBuffer> filler = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect((int) Math.min(bytes, 1 << 24));
                while (b.hasRemaining()) {
                    b.put((byte) 0xFF);
                }
                filler.add(b);
            }
            filler.clear();
        }
    }

    private static double maxDiff(NDArray a, NDArray b) {
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        double d = 0;
        for (int i = 0; i < x.length; i++) {
            d = Math.max(d, Math.abs(x[i] - y[i]));
        }
        return d;
    }
}
