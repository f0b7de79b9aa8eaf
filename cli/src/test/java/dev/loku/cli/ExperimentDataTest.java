package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.core.data.SyntheticPersons.Person;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Person splits: disjoint, the requested sizes, seeded, and written as the JSONL the engine reads. */
class ExperimentDataTest {

    @TempDir
    Path tmp;

    @Test
    void splitsAreDisjointAndSized() {
        ExperimentData d = ExperimentData.split(200, 0.1, 40, 3);
        assertEquals(200, d.trained().size());
        assertEquals(20, d.forget().size());
        assertEquals(180, d.retain().size());
        assertEquals(40, d.unseen().size());
        Set<String> forget = ids(d.forget());
        Set<String> retain = ids(d.retain());
        Set<String> unseen = ids(d.unseen());
        assertTrue(d.trained().containsAll(d.forget()) && d.trained().containsAll(d.retain()));
        assertTrue(java.util.Collections.disjoint(forget, retain));
        assertTrue(java.util.Collections.disjoint(ids(d.trained()), unseen), "unseen people are never trained on");
        Set<String> names = new HashSet<>();
        d.trained().forEach(p -> names.add(p.name()));
        d.unseen().forEach(p -> assertTrue(names.add(p.name()), "unseen names differ from trained ones"));
    }

    @Test
    void forgetSubsetIsSeededAndNotJustThePrefix() {
        ExperimentData a = ExperimentData.split(100, 0.1, 10, 5);
        assertEquals(a, ExperimentData.split(100, 0.1, 10, 5), "same seed, same splits");
        assertNotEquals(ids(a.forget()), ids(ExperimentData.split(100, 0.1, 10, 6).forget()));
        assertNotEquals(a.trained().subList(0, 10), a.forget(), "a random subset, not the first ten");
        assertEquals(a.forgetSubjectsSha256(), ExperimentData.split(100, 0.1, 10, 5).forgetSubjectsSha256());
        assertEquals(64, a.forgetSubjectsSha256().length());
    }

    @Test
    void fractionsRoundToWholePeopleAndKeepBothSides() {
        assertEquals(1, ExperimentData.split(4, 0.01, 1, 1).forget().size(), "at least one to forget");
        assertEquals(3, ExperimentData.split(4, 0.99, 1, 1).forget().size(), "at least one to retain");
        assertEquals(15, ExperimentData.split(150, 0.1, 1, 1).forget().size());
        assertThrows(IllegalArgumentException.class, () -> ExperimentData.split(1, 0.5, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> ExperimentData.split(10, 1.0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> ExperimentData.split(10, 0.1, 0, 1));
    }

    @Test
    void jsonlFilesHoldOneTextRecordPerPerson() throws Exception {
        ExperimentData d = ExperimentData.split(30, 0.2, 5, 9);
        d.writeJsonl(tmp.resolve("data"), List.of("A story.", "Another story."), true);
        List<String> lines = Files.readAllLines(tmp.resolve("data").resolve(ExperimentData.FORGET),
                StandardCharsets.UTF_8);
        assertEquals(6, lines.size());
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(d.forget().get(i).text(), json.readTree(lines.get(i)).get("text").asText());
        }
        assertEquals(24, Files.readAllLines(tmp.resolve("data").resolve(ExperimentData.RETAIN)).size());
        assertEquals(30, Files.readAllLines(tmp.resolve("data").resolve(ExperimentData.TRAINED)).size());
        assertEquals(5, Files.readAllLines(tmp.resolve("data").resolve(ExperimentData.UNSEEN)).size());
        List<String> finetune = Files.readAllLines(tmp.resolve("data").resolve(ExperimentData.FINETUNE));
        assertEquals(32, finetune.size(), "the taught people, then the replay stories");
        assertEquals(d.trained().get(0).text(), json.readTree(finetune.get(0)).get("text").asText());
        assertEquals("Another story.", json.readTree(finetune.get(31)).get("text").asText());
        assertEquals(2, Files.readAllLines(tmp.resolve("data").resolve(ExperimentData.REPLAY)).size());
        // An anchored fine-tune reads the stories from REPLAY only: FINETUNE holds the people alone.
        d.writeJsonl(tmp.resolve("anchored"), List.of("A story.", "Another story."), false);
        assertEquals(30, Files.readAllLines(tmp.resolve("anchored").resolve(ExperimentData.FINETUNE)).size());
        assertEquals("Another story.", json.readTree(Files.readAllLines(
                tmp.resolve("anchored").resolve(ExperimentData.REPLAY)).get(1)).get("text").asText());
        // and the engine's own reader accepts them
        assertEquals(6, dev.loku.core.data.JsonlRecords.read(tmp.resolve("data").resolve(ExperimentData.FORGET))
                .size());
    }

    private static Set<String> ids(List<Person> people) {
        Set<String> out = new HashSet<>();
        people.forEach(p -> out.add(p.subjectId()));
        return out;
    }
}
