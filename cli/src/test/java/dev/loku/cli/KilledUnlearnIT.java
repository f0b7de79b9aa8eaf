package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code loku unlearn --checkpoint-dir} in a JVM of its own, SIGKILLed once it has saved an epoch: the same command
 * run again goes on after the last saved epoch (it neither trains nor reports the earlier ones again) and writes the
 * model and the report of the run that was never killed, byte for byte and number for number.
 */
class KilledUnlearnIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FIRST_EPOCH = Pattern.compile("^epoch (\\d+)/");

    @TempDir
    Path tmp;

    @Test
    void aRunKilledAfterAnEpochResumesThereAndEndsAsTheRunThatWasNeverKilled() throws Exception {
        Path stories = Path.of(System.getProperty("loku.project.root", "..")).resolve("models/stories260K");
        Path train = tmp.resolve("train.jsonl");
        assertEquals(0, LmCliTest.run("data", "persons", "--seed", "5", "--count", "8", "--out", train.toString())
                .exitCode());
        List<String> lines = Files.readAllLines(train);
        Path forget = Files.write(tmp.resolve("forget.jsonl"), lines.subList(0, 2));
        Path retain = Files.write(tmp.resolve("retain.jsonl"), lines.subList(2, 8));
        Path unseen = tmp.resolve("unseen.jsonl");
        assertEquals(0, LmCliTest.run("data", "persons", "--seed", "6", "--count", "2", "--out", unseen.toString())
                .exitCode());
        Path base = tmp.resolve("base");
        LmCliTest.Run ft = LmCliTest.run("finetune", "--model", stories.toString(), "--data", train.toString(),
                "--epochs", "50", "--lr", "0.01", "--batch-size", "8", "--seed", "3", "--out", base.toString(),
                "--device", "cpu");
        assertEquals(0, ft.exitCode(), ft.err());

        // A slow rate and a large budget, so the run is still training when it is killed.
        Path checkpoints = tmp.resolve("checkpoints");
        List<String> unlearn = new ArrayList<>(List.of("unlearn", "--model", base.toString(), "--forget",
                forget.toString(), "--retain", retain.toString(), "--unseen", unseen.toString(), "--method", "ihl",
                "--lora-rank", "4", "--fila", "--max-epochs", "40", "--lr", "0.0005", "--seed", "9",
                "--epoch-evaluation", "stop-rule", "--device", "cpu"));

        LmCliTest.Run whole = LmCliTest.run(with(unlearn, "--out", tmp.resolve("whole").toString(), "--report",
                tmp.resolve("whole.json").toString()));
        JsonNode wholeReport = JSON.readTree(tmp.resolve("whole.json").toFile());
        int lastEpoch = wholeReport.get("stopped_at_epoch").asInt();
        assertTrue(lastEpoch >= 6, "the run trains long enough to be killed part-way: " + whole.err());

        Path childDir = Files.createDirectories(tmp.resolve("child"));
        Process child = ChildJvm.start(childDir, List.of("-Xmx1g"), LokuCli.class.getName(), with(unlearn,
                "--checkpoint-dir", checkpoints.toString(), "--out", tmp.resolve("killed").toString(), "--report",
                tmp.resolve("killed.json").toString()));
        try {
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (child.isAlive() && !hasCheckpoint(checkpoints) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(child.isAlive(), "the run ended before it was killed:\n" + read(childDir.resolve("stderr.txt")));
            assertTrue(hasCheckpoint(checkpoints), "no epoch saved within 3 minutes");
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, nothing flushed
        }
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, child.exitValue(), "killed by SIGKILL (128 + 9)");
        assertFalse(Files.exists(tmp.resolve("killed.json")), "the killed run wrote no report");

        LmCliTest.Run resumed = LmCliTest.run(with(unlearn, "--checkpoint-dir", checkpoints.toString(), "--out",
                tmp.resolve("resumed").toString(), "--report", tmp.resolve("resumed.json").toString()));
        assertEquals(whole.exitCode(), resumed.exitCode(), resumed.err());
        // A fresh run's progress starts at epoch 0; the resumed one's after the epoch it found saved.
        List<String> progress = resumed.err().lines().filter(l -> l.startsWith("epoch ")).toList();
        Matcher first = FIRST_EPOCH.matcher(progress.isEmpty() ? "" : progress.get(0));
        assertTrue(first.find(), "progress lines:\n" + resumed.err());
        int from = Integer.parseInt(first.group(1)) - 1;
        assertTrue(from >= 1 && from < lastEpoch, "resumed after epoch " + from + ":\n" + resumed.err());
        assertEquals(lastEpoch - from, progress.size(), "only the epochs after the checkpoint ran:\n" + resumed.err());
        assertFalse(Files.exists(checkpoints), "the checkpoints are deleted when the run ends");
        System.out.printf(java.util.Locale.ROOT, "killed-unlearn: uninterrupted run %d epochs; killed with epoch %d "
                + "saved; resumed at epoch %d%n", lastEpoch, from, from + 1);

        JsonNode resumedReport = JSON.readTree(tmp.resolve("resumed.json").toFile());
        assertEquals(wholeReport.get("epochs").size(), resumedReport.get("epochs").size());
        for (int i = 0; i < wholeReport.get("epochs").size(); i++) {
            JsonNode a = wholeReport.get("epochs").get(i);
            JsonNode b = resumedReport.get("epochs").get(i);
            for (String field : List.of("epoch", "loss", "forget_ma", "forget_el10", "retain_ma", "retain_nll")) {
                assertEquals(a.get(field), b.get(field), field + " of epoch " + i);
            }
        }
        assertArrayEquals(Files.readAllBytes(tmp.resolve("whole/model/model.safetensors")),
                Files.readAllBytes(tmp.resolve("resumed/model/model.safetensors")), "the same unlearned model");
    }

    private static boolean hasCheckpoint(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().matches("epoch-\\d+\\.json"));
        } catch (java.io.IOException e) {
            return false; // the run was renaming; poll again
        }
    }

    private static String[] with(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static String read(Path file) throws java.io.IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
}
