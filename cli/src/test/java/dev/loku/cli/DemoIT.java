package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.loku.core.data.SyntheticPersons;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code loku demo} end to end with the real engine: a small model that memorised four synthetic persons (made once
 * and cached under {@code cli/target/demo-cache}), its own in-process broker and registry, the four services, one
 * person's erasure request and the five refusals. The person's request must end VERIFIED (or FAILED with a reason)
 * and PURGED, its set closed in the ledger, no copy of its content left in the artifact store or the scratch folders,
 * and the person's record in no log line, no output line and no audit event.
 */
class DemoIT {

    @TempDir
    Path tmp;

    @Test
    void aMemorisedPersonIsForgottenVerifiedAndPurgedWithTheRealEngine() throws Exception {
        Path root = Path.of(System.getProperty("loku.project.root", "..")).toAbsolutePath().normalize();
        Path cache = root.resolve("cli/target/demo-cache");
        Path work = tmp.resolve("work");
        SyntheticPersons.Person person = DemoModel.persons(1, 3, 3).get(0).get(0);

        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger rootLogger = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger ours = (Logger) LoggerFactory.getLogger("dev.loku");
        Level before = ours.getLevel();
        rootLogger.addAppender(logs);
        ours.setLevel(Level.INFO); // the services' one-line events are what the privacy check must see
        LmCliTest.Run run;
        try {
            run = LmCliTest.run("demo", "--persons", "1", "--retain-persons", "3", "--unseen-persons", "3",
                    "--device", "cpu", "--json", "--timeout", "170s", "--max-epochs", "4", "--cache-dir", cache.toString(),
                    "--work-dir", work.toString(), "--keep-work-dir");
        } finally {
            rootLogger.detachAppender(logs);
            ours.setLevel(before);
        }
        JsonNode summary = LmCliTest.onlyJson(run); // exit 0: every request ended
        assertTrue(summary.path("allEnded").asBoolean(), run.err());
        JsonNode requests = summary.path("requests");
        assertEquals(6, requests.size(), summary.toString());

        JsonNode p = requests.get(0);
        assertEquals("person 1", p.path("label").asText());
        String status = p.path("status").asText();
        assertTrue(status.equals("VERIFIED") || status.equals("FAILED"), status);
        assertTrue(p.path("purged").asBoolean(), "purged after its verdict");
        List<String> trail = new ArrayList<>();
        p.path("trail").forEach(e -> trail.add(e.path("status").asText()));
        assertEquals(List.of("RECEIVED", "ACCEPTED", "BATCHED", "IMPORTANCE_READY", "UNLEARNING", "UNLEARNED"),
                trail.subList(0, 6), "the request went through every stage");
        assertEquals("PURGED", trail.get(trail.size() - 1));
        if (status.equals("VERIFIED")) {
            assertEquals("PASS", p.path("verdict").asText());
            assertTrue(p.path("version").asText().startsWith("v"), p.toString());
            assertTrue(p.path("maAfter").asDouble() < p.path("maBefore").asDouble(), "forgot some: " + p);
            assertTrue(p.path("el10After").asDouble() <= p.path("el10Before").asDouble(), p.toString());
        } else {
            assertFalse(p.path("reason").asText().isBlank(), "a failure says why");
        }
        assertTrue(p.path("retainNllBefore").isNumber() && p.path("retainNllAfter").isNumber(), p.toString());

        List<String> reasons = new ArrayList<>();
        for (int i = 1; i < 6; i++) {
            assertEquals("REJECTED", requests.get(i).path("status").asText(), requests.get(i).toString());
            reasons.add(requests.get(i).path("reason").asText());
        }
        assertTrue(reasons.get(0).startsWith("the record could not be decoded; dead-lettered from "), reasons.get(0));
        assertEquals(List.of("no texts and no qaPairs", "model is not in the model catalogue",
                "tenant is not allowed to file requests for this model"), reasons.subList(1, 4));
        assertTrue(reasons.get(4).startsWith("content is "), reasons.get(4));

        // Nothing of the person's record anywhere the pipeline writes or says things.
        String name = person.name();
        assertTrue(logs.list.size() > 20, "the services' log was captured");
        for (ILoggingEvent e : logs.list) {
            assertFalse(e.getFormattedMessage().contains(name), "log: " + e.getFormattedMessage());
        }
        assertFalse(run.out().contains(name), "stdout (the summary with every audit event)");
        assertFalse(run.err().contains(name), "progress output");
        Path artifacts = work.resolve("artifacts");
        try (Stream<Path> files = Files.walk(artifacts)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertFalse(text.contains(name), "forget content left in " + f);
            }
        }
        String set = p.path("forgetSet").asText();
        assertEquals(36, set.length(), p.toString());
        assertTrue(Files.isRegularFile(artifacts.resolve("forget-sets/closed/" + set + ".json")), "set closed");
        assertFalse(Files.exists(artifacts.resolve("forget-sets/open/" + set)), "nothing held open for the set");
        for (String scratch : List.of("work", "scoring")) {
            if (Files.exists(work.resolve(scratch))) {
                try (Stream<Path> files = Files.walk(work.resolve(scratch))) {
                    assertEquals(List.of(), files.filter(Files::isRegularFile).toList(), "scratch copies left");
                }
            }
        }
    }
}
