package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import dev.loku.core.data.QaTemplate;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.tofu.TofuData;
import dev.loku.core.tofu.TofuEvaluator;
import dev.loku.core.tofu.TofuMetrics;
import dev.loku.core.tofu.TofuSplit;
import dev.loku.core.tofu.TofuSplitScores;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code loku eval --tofu} on stories260K and a small cut of the shipped TOFU data: its JSON equals what the engine's
 * {@link TofuEvaluator} gives for the same splits when called directly; a retain model equal to the model gives KS
 * p = 1; bad options are one-line usage errors; the memorisation form still needs its three files.
 */
class EvalTofuCliTest {

    private static final Path ROOT = Path.of(System.getProperty("loku.project.root", ".."));
    private static final Path STORIES = ROOT.resolve("models/stories260K");

    @Test
    void theJsonEqualsTheEvaluatorsNumbersForTheSameSplits() throws Exception {
        LmCliTest.Run run = LmCliTest.run("eval", "--tofu", "--model", STORIES.toString(), "--forget-split", "1",
                "--forget-per-author", "3", "--retain-per-author", "1", "--real-world-items", "4",
                "--max-new-tokens", "8", "--retain-model", STORIES.toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode o = LmCliTest.onlyJson(run);

        TofuData tofu = TofuData.load(ROOT.resolve("data/tofu"));
        List<TofuSplit> splits = List.of(tofu.forget(1, 3), tofu.retain(1), tofu.realAuthors().first(4),
                tofu.worldFacts().first(4));
        TofuEvaluator evaluator = new TofuEvaluator(QaTemplate.PLAIN, TofuEvaluator.DEFAULT_MAX_LENGTH, 8,
                TofuEvaluator.DEFAULT_BATCH_SIZE, TofuEvaluator.DEFAULT_GENERATION_BATCH);
        List<TofuSplitScores> direct = new UnlearningEngine(Device.cpu()).evaluateTofu(STORIES, splits, evaluator,
                TofuEvaluator.Progress.none());

        assertEquals(splits.get(0).name(), o.path("forget_split").asText());
        assertEquals(4, o.path("splits").size());
        for (TofuSplitScores s : direct) {
            JsonNode n = o.path("splits").path(s.name());
            assertEquals(s.size(), n.path("items").asInt(), s.name());
            assertEquals(s.substituted(), n.path("substituted").asBoolean(), s.name());
            assertEquals(s.probability(), n.path("probability").asDouble(), 1e-9, s.name());
            assertEquals(s.rougeL(), n.path("rouge_l").asDouble(), 1e-9, s.name());
            assertEquals(s.truthRatio(), n.path("truth_ratio").asDouble(), 1e-9, s.name());
        }
        assertEquals(6, o.path("splits").path(splits.get(0).name()).path("items").asInt(), "forget01: 2 authors, 3 each");
        assertEquals(TofuMetrics.modelUtility(direct.subList(1, 4)), o.path("model_utility").asDouble(), 1e-9);
        assertEquals(1.0, o.path("forget_truth_ratio_ks_p").asDouble(), 1e-12, "the same model: same ratios");
    }

    @Test
    void theTableNamesASubstituteForWhatItIs() {
        LmCliTest.Run run = LmCliTest.run("eval", "--tofu", "--model", STORIES.toString(), "--forget-split", "1",
                "--forget-per-author", "2", "--retain-per-author", "1", "--real-world-items", "2",
                "--max-new-tokens", "4", "--retain-model", STORIES.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("model utility (retain, real authors, world facts): "), run.out());
        assertTrue(run.out().contains("not TOFU's forget quality"), run.out());
    }

    @Test
    void badOptionsAreUsageErrors() {
        LmCliTest.Run split = LmCliTest.run("eval", "--tofu", "--model", STORIES.toString(), "--forget-split", "7");
        assertEquals(2, split.exitCode());
        assertTrue(split.err().contains("--forget-split takes 1, 5 or 10"), split.err());
        LmCliTest.Run both = LmCliTest.run("eval", "--tofu", "--model", STORIES.toString(), "--forget", "a.jsonl",
                "--retain", "b.jsonl", "--unseen", "c.jsonl");
        assertEquals(2, both.exitCode(), "records and --tofu exclude each other");
        LmCliTest.Run neither = LmCliTest.run("eval", "--model", STORIES.toString());
        assertEquals(2, neither.exitCode(), "one of the two inputs is needed");
    }
}
