package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.cli.ExperimentResults.BaseScores;
import dev.loku.cli.ExperimentResults.EpochPoint;
import dev.loku.cli.ExperimentResults.MethodRun;
import dev.loku.cli.ExperimentResults.Setup;
import dev.loku.core.objective.UnlearningMethod;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiment's table, page, JSON and chart from known numbers. */
class ExperimentWritersTest {

    @TempDir
    Path tmp;

    /** Thresholds MA 0.30 / EL 0.05; GA full reaches them at epoch 2, IHL+LoRA never (budget 3). */
    static ExperimentResults sample() {
        Setup setup = new Setup("models/stories260K", 200, 20, 40, 7, 30, 1.0, 30, 2e-3, 16, 120.4, 0.30, 0.05,
                "ab".repeat(32), "cpu", 2);
        BaseScores base = new BaseScores(0.12, 1.9, 0.95, 0.80, 0.93, 0.30, 0.05, 2.1);
        MethodRun ga = new MethodRun("GA", UnlearningMethod.GA, 0, false, 1e-3, 3, Map.of("lr", "0.001"),
                List.of(new EpochPoint(0, Double.NaN, 0.95, 0.80, 0.93, 0.3, 0),
                        new EpochPoint(1, -1.5, 0.60, 0.30, 0.80, 0.9, 2),
                        new EpochPoint(2, -3.0, 0.25, 0.02, 0.55, 1.5, 4)),
                2, true, 2.6, 14.2);
        MethodRun ihl = new MethodRun("IHL+LoRA", UnlearningMethod.IHL, 4, false, 2.5e-4, 3, Map.of(),
                List.of(new EpochPoint(0, Double.NaN, 0.95, 0.80, 0.93, 0.3, 0),
                        new EpochPoint(1, 1.2, 0.90, 0.70, 0.93, 0.3, 2),
                        new EpochPoint(2, 1.1, 0.80, 0.50, 0.92, 0.3, 4),
                        new EpochPoint(3, 1.0, 0.70, 0.04, 0.92, 0.3, 6)),
                3, false, 2.1049, 20.6);
        return new ExperimentResults(setup, base, List.of(ga, ihl), 300);
    }

    @Test
    void tableShowsEachMethodsBudgetEpochsAndBeforeAfterValues() {
        String expected = """
                | Method | Trains | lr | Epochs to threshold | Forget MA | Forget EL_10 | Retain MA | Story NLL | Time |
                |---|---|---:|---:|---|---|---|---|---:|
                | GA | all weights | 1e-3 | 2 | 0.950 → 0.250 | 0.800 → 0.020 | 0.930 → 0.550 | 2.100 → 2.600 (+0.500) | 14 s |
                | IHL+LoRA | LoRA r=4 | 2.5e-4 | not reached (max 3) | 0.950 → 0.700 | 0.800 → 0.040 | 0.930 → 0.920 | 2.100 → 2.105 (+0.005) | 21 s |
                """;
        assertEquals(expected, ExperimentTable.table(sample()));
    }

    @Test
    void readingStatesWhatTheNumbersSay() {
        List<String> lines = ExperimentTable.reading(sample());
        assertEquals("Fine-tuning memorised the records: forget MA 0.950 against 0.300 on unseen people (+0.650)"
                + " and EL_10 0.800 against 0.050.", lines.get(0));
        assertEquals("Reached both thresholds: GA in 2 epochs.", lines.get(1), "(no template note: unseen MA 0.3)");
        assertEquals("IHL+LoRA did not reach them in 3 epochs (forget MA 0.700, EL_10 0.040 at the end; MA still"
                + " above its threshold).", lines.get(2));
        assertEquals("GA: retain MA 0.930 → 0.550 (38.0 points lost), story NLL +0.500 nats (worse).", lines.get(3));
        assertEquals("IHL+LoRA: retain MA 0.930 → 0.920 (1.0 points lost), story NLL +0.005 nats (about unchanged).",
                lines.get(4));
    }

    @Test
    void aHighUnseenMaIsExplainedByTheSharedTemplate() {
        ExperimentResults s = sample();
        BaseScores b = s.base();
        ExperimentResults templated = new ExperimentResults(s.setup(), new BaseScores(b.shippedForgetMa(),
                b.shippedStoryNll(), 0.97, 0.89, 0.97, 0.84, 0.24, b.storyNll()), s.runs(), s.totalSeconds());
        List<String> lines = ExperimentTable.reading(templated);
        assertTrue(lines.get(1).startsWith("Every record follows one sentence template, so the fine-tuned model"
                + " predicts 84% of an unseen person's tokens too"), lines.get(1));
        assertTrue(ExperimentTable.reading(s).stream().noneMatch(l -> l.contains("template")));
    }

    @Test
    void aStopAfterTheFirstUpdateIsPointedOut() {
        ExperimentResults s = sample();
        MethodRun ga = s.runs().get(0);
        MethodRun oneStep = new MethodRun(ga.label(), ga.method(), 0, false, ga.learningRate(), 3, Map.of(),
                ga.epochs().subList(0, 2), 1, true, ga.storyNllAfter(), ga.seconds());
        List<String> lines = ExperimentTable.reading(new ExperimentResults(s.setup(), s.base(),
                List.of(oneStep, s.runs().get(1)), 1));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("GA was below both thresholds after a single update")),
                String.join("\n", lines));
        assertTrue(ExperimentTable.reading(s).stream().noneMatch(l -> l.contains("single update")));
    }

    @Test
    void pageHoldsSetupTableChartAndCommand() {
        String page = ExperimentTable.document(sample(), "./loku experiment memorisation --seed 7",
                "memorisation.png", "memorisation.json");
        assertTrue(page.contains(ExperimentTable.table(sample())), "the table is on the page");
        assertTrue(page.contains("](memorisation.png)"), "the chart is linked");
        assertTrue(page.contains("```\n./loku experiment memorisation --seed 7\n```"), "the command is shown");
        assertTrue(page.contains("MA 0.300 and EL_10 0.050"), "the thresholds are stated");
        assertTrue(page.contains("took 300 s (5.0 min)"), "the run time is stated");
    }

    @Test
    void jsonCarriesTheRawNumbers() throws Exception {
        JsonNode json = new ObjectMapper().readTree(sample().toJson());
        assertEquals(0.30, json.at("/setup/thresholds/ma").asDouble(), 0);
        assertEquals(180, json.at("/setup/retain_count").asInt());
        assertEquals(2, json.at("/runs/0/epochs_to_threshold").asInt());
        assertTrue(json.at("/runs/1/epochs_to_threshold").isNull());
        assertEquals(4, json.at("/runs/1/epochs").size());
        assertEquals(0.04, json.at("/runs/1/epochs/3/forget_el10").asDouble(), 0);
        assertTrue(json.at("/runs/0/epochs/0/loss").isNull(), "no loss before the first update: null, not NaN");
        assertEquals("0.001", json.at("/runs/0/hyperparameters/lr").asText());
    }

    @Test
    void chartIsAPngWithTheSeriesAndThresholdWhereTheNumbersPutThem() throws Exception {
        Path png = tmp.resolve("sub/chart.png");
        ExperimentChart.write(sample(), png);
        BufferedImage image = ImageIO.read(Files.newInputStream(png));
        assertNotNull(image, "decodes as an image");
        assertEquals(ExperimentChart.WIDTH, image.getWidth());
        assertEquals(ExperimentChart.HEIGHT, image.getHeight());

        // Threshold line of the forget-MA panel at MA 0.30, a quarter of the way in (clear of legend and points).
        int maxEpoch = 3;
        int y = ExperimentChart.yOf(0, 0.30);
        int x = ExperimentChart.xOf(0, 1, maxEpoch) + 20;
        assertTrue(nearRow(image, x, y, ExperimentChart.THRESHOLD), "threshold line at MA 0.30");
        // GA's point at epoch 2 (MA 0.25) in its colour, IHL+LoRA's point at epoch 3 (MA 0.70) in its own.
        assertEquals(ExperimentChart.COLORS[0].getRGB(),
                image.getRGB(ExperimentChart.xOf(0, 2, maxEpoch), ExperimentChart.yOf(0, 0.25)));
        assertEquals(ExperimentChart.COLORS[1].getRGB(),
                image.getRGB(ExperimentChart.xOf(0, 3, maxEpoch), ExperimentChart.yOf(0, 0.70)));
        // Forget EL_10 panel (right half): IHL+LoRA at epoch 3, EL 0.04.
        assertEquals(ExperimentChart.COLORS[1].getRGB(), image.getRGB(
                ExperimentChart.xOf(ExperimentChart.PANEL_W, 3, maxEpoch), ExperimentChart.yOf(0, 0.04)));
        // Retain MA panel (bottom left): GA at epoch 2, 0.55.
        assertEquals(ExperimentChart.COLORS[0].getRGB(), image.getRGB(
                ExperimentChart.xOf(0, 2, maxEpoch), ExperimentChart.yOf(ExperimentChart.PANEL_H, 0.55)));
        // Where no series passes, the plot is background.
        assertEquals(Color.WHITE.getRGB(), image.getRGB(ExperimentChart.xOf(0, 3, maxEpoch) - 5,
                ExperimentChart.yOf(0, 0.95)));
    }

    private static boolean nearRow(BufferedImage image, int x, int y, Color color) {
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = 0; dx < 14; dx++) { // the dashes leave gaps, so look along the row
                if (image.getRGB(x + dx, y + dy) == color.getRGB()) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void learningRatesAreWrittenAsInConfigs() {
        assertEquals("1e-3", ExperimentTable.lr(0.001));
        assertEquals("2.5e-4", ExperimentTable.lr(2.5e-4));
        assertEquals("2e-2", ExperimentTable.lr(0.02));
        assertEquals("n/a", ExperimentTable.f3(Double.NaN));
    }
}
