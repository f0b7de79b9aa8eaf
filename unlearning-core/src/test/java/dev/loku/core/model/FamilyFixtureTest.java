package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.lora.LoraModel;
import dev.loku.core.testing.ProjectFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every model family against what Hugging Face transformers and PEFT computed on the same checkpoint: the golden
 * fixtures that {@code tools/fixtures/make_fixtures.py} writes under {@code models/fixtures/<family>/} (a seeded
 * random tiny model saved by {@code save_pretrained}, its logits, NLLs and greedy continuations, and a PEFT-written
 * LoRA adapter with PEFT's logits). Another set (other seeds and shapes) is checked by pointing
 * {@code -Dloku.fixtures=DIR} or {@code LOKU_FIXTURES} at it.
 */
class FamilyFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What "matches transformers" means for fp32 logits, log-likelihoods and adapters (the bound). */
    private static final double TOLERANCE = 1e-4;
    /** Two logits closer than this are a tie: fp32 rounding of either implementation may order them either way. */
    private static final double GREEDY_TIE = 2e-4;

    @TempDir
    Path tmp;

    /** One fixture: the folder, its golden.json and the golden arrays. */
    record Fixture(String name, Path dir, JsonNode golden) {
        @Override
        public String toString() {
            return name;
        }

        List<int[]> prompts() {
            List<int[]> out = new ArrayList<>();
            golden.get("prompts").forEach(p -> out.add(ints(p.get("ids"))));
            return out;
        }

        /** {@code [T, V]} of golden.safetensors' {@code name}. */
        float[][] rows(String tensor) {
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
                long[] shape = f.entry(tensor).shape();
                float[] flat = f.readFloats(tensor);
                float[][] out = new float[(int) shape[0]][(int) shape[1]];
                for (int r = 0; r < out.length; r++) {
                    System.arraycopy(flat, r * out[r].length, out[r], 0, out[r].length);
                }
                return out;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        DecoderModel load() {
            return ModelLoader.load(dir.resolve("model"), Device.cpu());
        }
    }

    static Path fixturesRoot() {
        String configured = System.getProperty("loku.fixtures", System.getenv("LOKU_FIXTURES"));
        return configured != null && !configured.isBlank() ? Path.of(configured)
                : ProjectFiles.root().resolve("models").resolve("fixtures");
    }

    static Stream<Fixture> fixtures() throws IOException {
        List<Fixture> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(fixturesRoot())) {
            for (Path d : dirs.sorted().toList()) {
                if (Files.isRegularFile(d.resolve("golden.json"))) {
                    out.add(new Fixture(d.getFileName().toString(), d, JSON.readTree(d.resolve("golden.json")
                            .toFile())));
                }
            }
        }
        return out.stream();
    }

    @Test
    void theCommittedSetCoversEveryFamily() throws IOException {
        List<String> architectures = fixtures().map(f -> f.golden().get("architecture").asText()).toList();
        if (System.getProperty("loku.fixtures", System.getenv("LOKU_FIXTURES")) == null) {
            for (ModelFamily family : ModelFamily.values()) {
                assertTrue(architectures.contains(family.architecture()), family + " has no fixture in "
                        + fixturesRoot() + ": " + architectures);
            }
        } else {
            assertFalse(architectures.isEmpty(), "no fixture (golden.json) under " + fixturesRoot());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void loadsAsTheFamilyTransformersSaved(Fixture fx) {
        try (DecoderModel model = fx.load()) {
            assertEquals(fx.golden().get("architecture").asText(), model.family().architecture());
            // The tokenizer.json built by the tokenizers library encodes the prompts as transformers did.
            for (JsonNode p : fx.golden().get("prompts")) {
                assertArrayEquals(ints(p.get("ids")), model.tokenizer().encode(p.get("text").asText(), true),
                        p.get("text").asText());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void logitsAndNllMatchTransformers(Fixture fx) {
        try (DecoderModel model = fx.load(); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            List<int[]> prompts = fx.prompts();
            double worst = 0;
            for (int i = 0; i < prompts.size(); i++) {
                TokenBatch one = TokenBatch.of(List.of(prompts.get(i)), TokenBatch.Padding.RIGHT, 0);
                worst = Math.max(worst, maxDiff(rowsOf(model.logits(m, one), 0, prompts.get(i).length, 0),
                        fx.rows("logits." + i)));
                assertEquals(fx.golden().get("nll").get(i).asDouble(), model.meanNll(m, one).getFloat(), TOLERANCE,
                        "mean NLL of prompt " + i);
            }
            assertTrue(worst <= TOLERANCE, fx + ": max |logit - transformers| = " + worst);
            System.out.printf(Locale.ROOT, "fixture %s: max |logit - transformers| %.3g%n", fx, worst);

            // Padding on either side: the same rows, the same values; the batch NLL is the token-level mean.
            for (TokenBatch.Padding side : TokenBatch.Padding.values()) {
                TokenBatch batch = TokenBatch.of(prompts, side, 0);
                NDArray logits = model.logits(m, batch);
                for (int i = 0; i < prompts.size(); i++) {
                    double d = maxDiff(rowsOf(logits, i, prompts.get(i).length, batch.rowOffset(i)),
                            fx.rows("logits." + i));
                    assertTrue(d <= TOLERANCE, fx + " " + side + "-padded row " + i + " differs by " + d);
                }
                assertEquals(fx.golden().get("batch_nll").asDouble(), model.meanNll(m, batch).getFloat(), TOLERANCE,
                        side + "-padded batch NLL");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void greedyContinuationsMatchTransformersAndTheCacheMatchesRecomputation(Fixture fx) {
        try (DecoderModel model = fx.load()) {
            List<int[]> prompts = fx.prompts();
            List<int[]> runPrompts = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            List<JsonNode> margins = new ArrayList<>();
            for (JsonNode g : fx.golden().get("greedy")) {
                runPrompts.add(prompts.get(g.get("prompt").asInt()));
                expected.add(ints(g.get("new_tokens")));
                margins.add(g.get("margins"));
            }
            int[] budgets = expected.stream().mapToInt(e -> e.length).toArray();
            // Batched (left-padded in one cache) and alone, never stopping at EOS: transformers' tokens.
            List<int[]> batched = model.generateGreedy(runPrompts, budgets, false);
            for (int r = 0; r < expected.size(); r++) {
                assertSameGreedy(expected.get(r), margins.get(r), batched.get(r), fx + " greedy run " + r
                        + " (batched)");
                assertSameGreedy(expected.get(r), margins.get(r), model.generateGreedy(List.of(runPrompts.get(r)),
                        new int[] {budgets[r]}, false).get(0), fx + " greedy run " + r + " (alone)");
            }
            // The KV cache against full recomputation: every step's token is the argmax of a fresh forward pass.
            for (int r = 0; r < expected.size(); r++) {
                int[] seq = runPrompts.get(r);
                for (int token : batched.get(r)) {
                    int[][] next = model.greedyPredictions(TokenBatch.of(List.of(seq), TokenBatch.Padding.RIGHT, 0));
                    assertEquals(next[0][seq.length - 1], token, fx + " cached step after " + seq.length + " tokens");
                    seq = append(seq, token);
                }
            }
            // The extraction-likelihood path (every prefix of known sequences, prefilled once) agrees too.
            List<int[]> sequences = new ArrayList<>();
            for (int r = 0; r < expected.size(); r++) {
                sequences.add(concat(runPrompts.get(r), expected.get(r)));
            }
            List<Integer> seqOfRow = new ArrayList<>();
            List<Integer> prefix = new ArrayList<>();
            for (int s = 0; s < sequences.size(); s++) {
                for (int p = 1; p < sequences.get(s).length; p += 3) {
                    seqOfRow.add(s);
                    prefix.add(p);
                }
            }
            int rows = seqOfRow.size();
            int[] maxNew = new int[rows];
            Arrays.fill(maxNew, 4);
            List<int[]> fromPrefixes = model.generateGreedyFromPrefixes(sequences,
                    seqOfRow.stream().mapToInt(Integer::intValue).toArray(),
                    prefix.stream().mapToInt(Integer::intValue).toArray(), maxNew, false);
            for (int r = 0; r < rows; r++) {
                int[] explicit = Arrays.copyOf(sequences.get(seqOfRow.get(r)), prefix.get(r));
                assertArrayEquals(model.generateGreedy(List.of(explicit), new int[] {4}, false).get(0),
                        fromPrefixes.get(r), fx + " prefix row " + r);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void thePeftAdapterGivesPeftsLogits(Fixture fx) throws IOException {
        try (DecoderModel model = fx.load(); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            List<int[]> prompts = fx.prompts();
            double worst = 0;
            try (LoraModel lora = LoraModel.loadPeft(model, fx.dir().resolve("adapter"))) {
                assertEquals(fx.golden().get("lora").get("r").asInt(), lora.config().rank());
                for (int i = 0; i < prompts.size(); i++) {
                    TokenBatch one = TokenBatch.of(List.of(prompts.get(i)), TokenBatch.Padding.RIGHT, 0);
                    worst = Math.max(worst, maxDiff(rowsOf(model.logits(m, one), 0, prompts.get(i).length, 0),
                            fx.rows("peft_logits." + i)));
                }
                assertTrue(worst <= TOLERANCE, fx + ": max |logit - PEFT| = " + worst);
                System.out.printf(Locale.ROOT, "fixture %s: max |logit - PEFT| %.3g%n", fx, worst);
                lora.merge();
                TokenBatch first = TokenBatch.of(List.of(prompts.get(0)), TokenBatch.Padding.RIGHT, 0);
                double merged = maxDiff(rowsOf(model.logits(m, first), 0, prompts.get(0).length, 0),
                        fx.rows("peft_logits.0"));
                assertTrue(merged <= TOLERANCE, fx + ": merged adapter differs from PEFT by " + merged);
                lora.unmerge();
            }
            // Closing the adapter gives the base model back.
            TokenBatch first = TokenBatch.of(List.of(prompts.get(0)), TokenBatch.Padding.RIGHT, 0);
            double base = maxDiff(rowsOf(model.logits(m, first), 0, prompts.get(0).length, 0), fx.rows("logits.0"));
            assertTrue(base <= TOLERANCE, fx + ": base after the adapter differs by " + base);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void exportedShardsReloadAsTheSameModel(Fixture fx) {
        Path out = tmp.resolve(fx.name());
        try (DecoderModel model = fx.load(); NDManager m = NDManager.newBaseManager(Device.cpu())) {
            HfExporter.export(model, out, 20_000);
            assertTrue(Files.isRegularFile(out.resolve("model.safetensors.index.json")), "sharded");
            try (DecoderModel back = ModelLoader.load(out, Device.cpu())) {
                assertEquals(model.config(), back.config());
                TokenBatch batch = TokenBatch.of(fx.prompts(), TokenBatch.Padding.RIGHT, 0);
                assertTrue(model.logits(m, batch).contentEquals(back.logits(m, batch)), fx + ": reloaded logits");
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /**
     * The same tokens as transformers, except that after a step where transformers' two best logits were within
     * {@link #GREEDY_TIE} (a tie that rounding may break either way) the continuations may part.
     */
    static void assertSameGreedy(int[] expected, JsonNode margins, int[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int j = 0; j < expected.length; j++) {
            if (expected[j] != actual[j]) {
                assertTrue(margins != null && margins.get(j).asDouble() < GREEDY_TIE, what + ": token " + j + " is "
                        + actual[j] + ", transformers chose " + expected[j] + " by a margin of "
                        + (margins == null ? "?" : margins.get(j).asDouble()));
                return;
            }
        }
    }

    /** Row {@code row} of {@code logits [B, T, V]}, columns {@code offset .. offset + length}, as {@code [T, V]}. */
    static float[][] rowsOf(NDArray logits, int row, int length, int offset) {
        long v = logits.getShape().get(2);
        float[] flat = logits.get(new NDIndex("{}, {}:{}, :", row, offset, offset + length)).toFloatArray();
        float[][] out = new float[length][(int) v];
        for (int t = 0; t < length; t++) {
            System.arraycopy(flat, (int) (t * v), out[t], 0, (int) v);
        }
        return out;
    }

    /** Largest |a - b| over the columns both hold (the model's vocabulary may be padded beyond the reference's). */
    static double maxDiff(float[][] a, float[][] b) {
        assertEquals(b.length, a.length, "positions");
        double worst = 0;
        for (int t = 0; t < a.length; t++) {
            assertEquals(b[t].length, a[t].length, "vocabulary");
            for (int j = 0; j < a[t].length; j++) {
                worst = Math.max(worst, Math.abs(a[t][j] - b[t][j]));
            }
        }
        return worst;
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static int[] append(int[] a, int x) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = x;
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
