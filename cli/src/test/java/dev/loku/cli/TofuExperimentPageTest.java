package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.cli.TofuExperimentResults.Base;
import dev.loku.cli.TofuExperimentResults.Point;
import dev.loku.cli.TofuExperimentResults.Run;
import dev.loku.cli.TofuExperimentResults.Setup;
import dev.loku.cli.TofuExperimentResults.SplitNumbers;
import dev.loku.core.objective.UnlearningMethod;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The TOFU page's utility columns and the lines it reads off them, on numbers made up for the test. */
class TofuExperimentPageTest {

    private static Point point(int epoch, double ksP, SplitNumbers retain, double worldRouge) {
        SplitNumbers forget = new SplitNumbers(8, 0.5, 0.2, 0.6);
        SplitNumbers real = new SplitNumbers(30, 0.2, 0.1, 0.2);
        SplitNumbers world = new SplitNumbers(30, 0.3, worldRouge, 0.4);
        return new Point(epoch, Double.NaN, ksP, 0.0, forget, retain, real, world, 1);
    }

    @Test
    void retainUtilityIsTheHarmonicMeanOfTheRetainNumbersAndTheZeroPartsAreNamed() {
        SplitNumbers retain = new SplitNumbers(30, 0.5, 0.25, 0.4);
        Point full = point(0, 1e-5, retain, 0.0);
        // 3 / (1/0.5 + 1/0.25 + 1/0.4) = 3 / 8.5, written out rather than through HarmonicMean
        assertEquals(3 / 8.5, full.retainUtility(), 1e-12);
        assertEquals(List.of("world-facts ROUGE-L"), full.zeroUtilityParts());
        assertEquals(List.of(), point(0, 1e-5, retain, 0.1).zeroUtilityParts());

        Point after = point(1, 0.3, new SplitNumbers(30, 0.4, 0.2, 0.4), 0.0);
        Run ihl = new Run("forget10", UnlearningMethod.IHL, true, List.of(full, after), 5);
        Run ga = new Run("forget10", UnlearningMethod.GA, false, List.of(full, point(1, 0.5,
                new SplitNumbers(30, 0.01, 0.0, 0.1), 0.0)), 5);
        Setup setup = new Setup("m", 1, 1e-3, 1, 1, 1, 1, 1e-3, 8, 8, 4, 2, 30, 32, 1, "cpu", 2);
        TofuExperimentResults results = new TofuExperimentResults(setup,
                List.of(new Base("forget10", full, full)), List.of(ga, ihl), 10);

        List<String> lines = TofuExperimentPage.reading(results);
        assertTrue(lines.stream().anyMatch(l -> l.contains("holds it at 0") && l.contains("world-facts ROUGE-L")),
                String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("On forget10 at the last epoch, the highest retain"
                + " utility‡ is IHL+FILA's (0.300")), String.join("\n", lines));
        // both runs end at model utility† 0 (world-facts ROUGE-L 0): a tie, not GA's win
        assertTrue(lines.stream().anyMatch(l -> l.contains("the highest model utility† 0.000, shared by all 2 runs")),
                String.join("\n", lines));
        assertEquals("GA+LoRA's (0.500)", TofuExperimentPage.leader(results.runsOf("forget10"),
                r -> r.last().forgetKsP(), TofuExperimentPage::p));
        String table = TofuExperimentPage.table(results, results.runsOf("forget10"));
        assertTrue(table.contains("| 0.353 → 0.300 |"), table);
        assertTrue(table.contains("| 0.353 → 0.000 |"), "GA's retain ROUGE-L 0 gives retain utility 0: " + table);
    }
}
