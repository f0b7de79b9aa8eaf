package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.data.SyntheticPersons.Person;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code loku experiment memorisation} end to end on the real stories260K with tiny settings: the three files
 * appear, their numbers agree with each other and with the engine's own thresholds, and no forgotten person's
 * record shows up in the output.
 */
class ExperimentCommandTest {

    @TempDir
    Path tmp;

    @Test
    void tinyExperimentWritesConsistentResultsWithoutRecordText() throws Exception {
        Path root = Path.of(System.getProperty("loku.project.root",
                Path.of(System.getProperty("user.dir")).getParent().toString()));
        Path out = tmp.resolve("docs");
        LmCliTest.Run run = LmCliTest.run("experiment", "memorisation", "--persons", "10", "--forget-fraction", "0.2",
                "--unseen", "2", "--seeds", "3", "--replay", "2", "--replay-tokens", "16", "--finetune-epochs", "2",
                "--finetune-batch", "8", "--max-epochs", "1", "--rank", "2", "--methods", "ihl-fila,ga-full",
                "--device", "cpu", "--model", root.resolve("models/stories260K").toString(), "--stories",
                root.resolve("data/stories/stories.jsonl").toString(), "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());

        JsonNode all = new ObjectMapper().readTree(out.resolve("memorisation.json").toFile());
        assertEquals(1, all.get("seeds").size(), "one seed asked for, one seed run");
        assertEquals(1, all.at("/summary/IHL+FILA/seeds").asInt());
        JsonNode json = all.at("/seeds/0");
        assertEquals(2, json.at("/setup/forget_count").asInt());
        assertEquals(8, json.at("/setup/retain_count").asInt());
        assertEquals(2, json.at("/setup/replay_stories").asInt());
        JsonNode runs = json.get("runs");
        assertEquals(2, runs.size());
        assertEquals("GA (full)", runs.get(0).get("label").asText(), "runs in the fixed method order");
        assertEquals(0, runs.get(0).get("lora_rank").asInt());
        assertEquals("IHL+FILA", runs.get(1).get("label").asText());
        assertEquals(2, runs.get(1).get("lora_rank").asInt());
        assertTrue(runs.get(1).get("fila").asBoolean());
        JsonNode before = json.get("before_unlearning");
        for (JsonNode r : runs) {
            assertTrue(r.get("epochs").size() >= 1 && r.get("epochs").size() <= 2, "epoch 0 and at most 1 more");
            assertEquals(0, r.at("/epochs/0/epoch").asInt());
            assertEquals(r.get("stopped_at_epoch").asInt(), r.get("epochs").size() - 1);
        }
        // The engine measured its thresholds on the same model and unseen people as the experiment's own scoring,
        // and its epoch 0 of the full-weight run is the fine-tuned model itself.
        assertEquals(before.get("unseen_ma").asDouble(), json.at("/setup/thresholds/ma").asDouble(), 1e-6);
        assertEquals(before.get("unseen_el10").asDouble(), json.at("/setup/thresholds/el10").asDouble(), 1e-6);
        assertEquals(before.get("forget_ma").asDouble(), runs.get(0).at("/epochs/0/forget_ma").asDouble(), 1e-6);
        assertEquals(before.get("forget_el10").asDouble(), runs.get(0).at("/epochs/0/forget_el10").asDouble(), 1e-6);
        assertEquals(before.get("retain_ma").asDouble(), runs.get(0).at("/epochs/0/retain_ma").asDouble(), 1e-6);

        String page = Files.readString(out.resolve("memorisation.md"));
        assertTrue(page.contains("| GA (full) | all weights |"), page);
        assertTrue(page.contains("| IHL+FILA | FILA-initialised LoRA r=2 |"), page);
        assertTrue(page.contains("--persons 10 --forget-fraction 0.2 --unseen 2 --seeds 3"), "command to reproduce");
        assertTrue(run.out().contains("| GA (full) |") && run.out().contains("| IHL+FILA |"),
                "the summary table on stdout: " + run.out());
        BufferedImage png = ImageIO.read(out.resolve("memorisation.png").toFile());
        assertEquals(ExperimentChart.WIDTH, png.getWidth());
        assertEquals(ExperimentChart.HEIGHT, png.getHeight());

        List<Person> forgotten = ExperimentData.split(10, 0.2, 2, 3).forget();
        String everything = run.out() + run.err() + page + Files.readString(out.resolve("memorisation.json"));
        for (Person p : forgotten) {
            assertFalse(everything.contains(p.name()), "a forgotten person's name leaked into the output");
            assertFalse(everything.contains(p.text().substring(p.text().indexOf("555-"),
                    p.text().indexOf("555-") + 8)), "a forgotten phone number leaked into the output");
        }
        assertTrue(run.err().contains("experiment: event=done"), run.err());
    }

    @Test
    void badArgumentsAreOneLineUserErrors() {
        LmCliTest.Run r = LmCliTest.run("experiment", "memorisation", "--methods", "ga-full,nonsense");
        assertTrue(r.exitCode() != 0);
        assertTrue(r.err().contains("unknown method 'nonsense'"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        LmCliTest.Run f = LmCliTest.run("experiment", "memorisation", "--forget-fraction", "1.5");
        assertTrue(f.exitCode() != 0);
        assertTrue(f.err().contains("forget fraction must lie strictly between 0 and 1"), f.err());
    }
}
