package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.data.SyntheticPersons;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loku demo}'s request script: the default one, the {@code --requests} file format and its error lines. */
class DemoRequestsTest {

    private static final String SECRET = "Zelda Secretperson";

    @TempDir
    Path tmp;

    private Path file(String... lines) throws Exception {
        return Files.writeString(tmp.resolve("requests.jsonl"), String.join("\n", lines) + "\n",
                StandardCharsets.UTF_8);
    }

    private String error(String... lines) throws Exception {
        Path f = file(lines);
        UserException e = assertThrows(UserException.class, () -> DemoRequests.read(f, "m", "t"));
        assertFalse(e.getMessage().contains("Secretperson"), "content quoted: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void aFileGivesOneRequestPerLineWithDefaultsForWhatItLeavesOut() throws Exception {
        Path f = file(
                "{\"label\": \"alice\", \"model\": \"other\", \"tenant\": \"acme\", \"subjectId\": \"s-1\", "
                        + "\"texts\": [\"" + SECRET + " lives at 7 Hidden Lane.\"], "
                        + "\"qaPairs\": [{\"question\": \"Where?\", \"answer\": \"7 Hidden Lane\"}]}",
                "",
                "{\"texts\": []}",
                "{\"label\": \"junk\", \"undecodable\": true}");
        List<DemoRequests.DemoRequest> rs = DemoRequests.read(f, "stories260k", "demo");
        assertEquals(3, rs.size());
        DemoRequests.DemoRequest alice = rs.get(0);
        assertEquals("alice", alice.label());
        assertEquals("other", alice.modelId());
        assertEquals("acme", alice.tenantId());
        assertEquals("s-1", alice.subjectId());
        assertEquals(List.of(SECRET + " lives at 7 Hidden Lane."), alice.texts());
        assertEquals(List.of(new DemoRequests.Qa("Where?", "7 Hidden Lane")), alice.qaPairs());
        assertTrue(alice.hasContent());
        assertEquals("{\"text\":\"" + SECRET + " lives at 7 Hidden Lane.\"}\n"
                + "{\"question\":\"Where?\",\"answer\":\"7 Hidden Lane\"}\n", alice.contentJsonl());

        DemoRequests.DemoRequest empty = rs.get(1);
        assertEquals("line 3", empty.label(), "labelled by its line (blank lines count)");
        assertEquals("stories260k", empty.modelId());
        assertEquals("demo", empty.tenantId());
        assertEquals("subject-3", empty.subjectId());
        assertFalse(empty.hasContent());
        assertFalse(empty.undecodable());

        assertTrue(rs.get(2).undecodable());
        assertFalse(rs.get(2).hasContent());
    }

    @Test
    void errorsNameTheFileLineAndFieldButNeverTheContent() throws Exception {
        String at = tmp.resolve("requests.jsonl") + " line 2: ";
        String ok = "{\"texts\": [\"fine\"]}";
        assertTrue(error(ok, "{\"texts\": " + SECRET + "\"]}").matches("\\Q" + at + "\\Enot valid JSON \\(column \\d+\\)"));
        assertEquals(at + "each line must be one JSON object", error(ok, "[\"" + SECRET + "\"]"));
        assertTrue(error(ok, "{\"text\": \"" + SECRET + "\"}").startsWith(at + "unknown field 'text'; known fields:"));
        assertEquals(at + "unknown field '(a name that is not an identifier)'; known fields: label, model, tenant, "
                + "subjectId, texts, qaPairs, undecodable", error(ok, "{\"" + SECRET + "\": 1}"));
        assertEquals(at + "'texts' must be an array of strings", error(ok, "{\"texts\": \"" + SECRET + "\"}"));
        assertEquals(at + "texts[1] must be a string", error(ok, "{\"texts\": [\"" + SECRET + "\", 7]}"));
        assertEquals(at + "qaPairs[0] must be {\"question\": string, \"answer\": string}",
                error(ok, "{\"qaPairs\": [{\"question\": \"" + SECRET + "\"}]}"));
        assertEquals(at + "'qaPairs' must be an array of {\"question\", \"answer\"} objects",
                error(ok, "{\"qaPairs\": {}}"));
        assertEquals(at + "'model' must be a non-blank string", error(ok, "{\"model\": 3}"));
        assertEquals(at + "'undecodable' must be true or false", error(ok, "{\"undecodable\": \"yes\"}"));
        assertEquals(at + "an undecodable request takes no 'texts' (only 'label')",
                error(ok, "{\"undecodable\": true, \"texts\": [\"" + SECRET + "\"]}"));
    }

    @Test
    void anEmptyOrMissingFileOrTooManyRequestsIsRefused() throws Exception {
        assertTrue(error("", "  ").endsWith(": no requests (one JSON object per line)"));
        Path missing = tmp.resolve("nope.jsonl");
        assertEquals("--requests " + missing + ": no such file",
                assertThrows(UserException.class, () -> DemoRequests.read(missing, "m", "t")).getMessage());
        String[] many = new String[DemoRequests.MAX_REQUESTS + 1];
        java.util.Arrays.fill(many, "{}");
        assertEquals(tmp.resolve("requests.jsonl") + " line 101: more than 100 requests; split the file",
                error(many));
    }

    @Test
    void theDefaultScriptAsksToForgetEachPersonAndAddsOneOfEachRefusal() {
        List<SyntheticPersons.Person> persons = DemoModel.persons(3, 2, 2).get(0);
        List<DemoRequests.DemoRequest> rs = DemoRequests.defaults(persons, "stories260k", "demo", 4096);
        assertEquals(8, rs.size());
        for (int i = 0; i < 3; i++) {
            assertEquals("person " + (i + 1), rs.get(i).label());
            assertEquals(List.of(persons.get(i).text()), rs.get(i).texts());
            assertEquals(persons.get(i).subjectId(), rs.get(i).subjectId());
            assertEquals("stories260k", rs.get(i).modelId());
            assertEquals("demo", rs.get(i).tenantId());
        }
        assertTrue(rs.get(3).undecodable());
        assertFalse(rs.get(4).hasContent());
        assertEquals("no-such-model", rs.get(5).modelId());
        assertEquals("intruder", rs.get(6).tenantId());
        assertTrue(rs.get(7).texts().get(0).getBytes(StandardCharsets.UTF_8).length > 4096, "over the limit");
        for (DemoRequests.DemoRequest r : rs.subList(3, 8)) {
            for (SyntheticPersons.Person p : DemoModel.persons(3, 2, 2).stream().flatMap(List::stream).toList()) {
                assertFalse(r.contentJsonl().contains(p.name()), "refused requests carry filler, not a person");
            }
        }
    }

    @Test
    void thePersonsSplitIsDeterministicAndDisjoint() {
        List<List<SyntheticPersons.Person>> a = DemoModel.persons(3, 9, 8);
        List<List<SyntheticPersons.Person>> b = DemoModel.persons(3, 9, 8);
        assertEquals(a, b);
        assertEquals(List.of(3, 9, 8), a.stream().map(List::size).toList());
        assertEquals(20, a.stream().flatMap(List::stream).map(SyntheticPersons.Person::name).distinct().count());
        assertEquals(a.get(0), DemoModel.persons(3, 4, 4).get(0), "the persons to forget do not depend on the rest");
    }
}
