package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.testing.ProjectFiles;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * stories260K against reference_outputs.json, which an independent float64 numpy implementation of llama2.c's
 * run.c produced (see models/stories260K/README.md).
 */
class GoldenStories260KTest {
    private static LlamaModel model;
    private static JsonNode golden;

    @BeforeAll
    static void load() throws Exception {
        model = (LlamaModel) ModelLoader.load(ProjectFiles.stories260K(), Device.cpu());
        golden = new ObjectMapper().readTree(ProjectFiles.stories260K().resolve("reference_outputs.json").toFile());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void readsTheArchitectureFromTheHeader() {
        LlamaConfig c = model.config();
        assertEquals(64, c.hiddenSize());
        assertEquals(172, c.intermediateSize());
        assertEquals(5, c.numLayers());
        assertEquals(8, c.numHeads());
        assertEquals(4, c.numKvHeads());
        assertEquals(512, c.vocabSize());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(RotaryLayout.INTERLEAVED, c.rotaryLayout());
        assertEquals(260_032, model.parameterCount() - 0, "README: 260,032 parameters with the tied head");
    }

    @Test
    void lastPositionLogitsMatchWithin1e3() {
        int[] ids = model.tokenizer().encode(golden.get("prompt").asText(), true);
        assertArrayEquals(ints(golden.get("prompt_ids_with_bos")), ids);
        float[] last = lastLogits(model, ids);
        JsonNode expected = golden.get("last_position_logits");
        assertEquals(expected.size(), last.length);
        double maxErr = 0;
        for (int i = 0; i < last.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(last[i] - expected.get(i).asDouble()));
        }
        assertTrue(maxErr < 1e-3, "max |logit - reference| = " + maxErr);
    }

    @Test
    void greedyContinuationFromBosIsWordForWordTheReference() {
        int[] expected = ints(golden.get("greedy_from_bos_ids"));
        int[] generated = model.generateGreedy(new int[] {1}, expected.length - 1);
        int[] all = new int[generated.length + 1];
        all[0] = 1;
        System.arraycopy(generated, 0, all, 1, generated.length);
        assertArrayEquals(expected, all);
        assertEquals(golden.get("greedy_from_bos_text").asText().strip(), model.tokenizer().decode(all));
    }

    @Test
    void meanNllOfTheExampleMatchesWithin1e3() {
        JsonNode ex = golden.get("nll_example");
        int[] ids = model.tokenizer().encode(ex.get("text").asText(), true);
        assertArrayEquals(ints(ex.get("ids_with_bos")), ids);
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray nll = model.meanNll(m, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0));
            assertEquals(ex.get("mean_nll_nats").asDouble(), nll.getFloat(), 1e-3);
        }
    }

    static float[] lastLogits(CausalLm model, int[] ids) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray logits = model.logits(m, TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, 0));
            return logits.get(new NDIndex("0, {}, :", ids.length - 1)).toFloatArray();
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
