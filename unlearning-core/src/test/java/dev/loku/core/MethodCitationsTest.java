package dev.loku.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.testing.ProjectFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The method is cited as {@code docs/method.md §N} (or a bare {@code §N}) from code and docs. Every cited section must
 * exist on that page, and nothing may point at a reference document that does not ship with the repository.
 */
class MethodCitationsTest {

    /** Names of documents outside the repository that earlier text cited (assembled so this file does not match). */
    private static final List<String> OUTSIDE = List.of("LOKU" + "-SPEC", "shared" + "/reference", "../" + "shared",
            "DEPENDENCIES" + ".md");
    private static final Pattern CITATION = Pattern.compile("§(\\d+(?:\\.\\d+)?)");
    private static final Pattern HEADING = Pattern.compile("(?m)^#+ §(\\d+(?:\\.\\d+)?)\\b");
    private static final Pattern PITFALL = Pattern.compile("(?m)^(\\d+)\\. ");
    private static final Set<String> SKIPPED_DIRS = Set.of(".git", "target", "venv", ".loku", ".cache", "node_modules",
            ".device");
    private static final Pattern TEXT = Pattern.compile(".*\\.(java|md|xml|avsc|py|ya?ml|sh|properties)$|loku|run");

    @Test
    void everyCitedSectionExistsAndNothingPointsOutsideTheRepository() throws IOException {
        Path root = ProjectFiles.root();
        Set<String> sections = sections(Files.readString(root.resolve("docs/method.md"), StandardCharsets.UTF_8));
        assertTrue(sections.containsAll(Set.of("1.1", "2.4", "3.2", "5.1", "5.2", "7.2", "8.6", "8.16")),
                "docs/method.md lost sections the code relies on: " + sections);

        List<String> problems = new ArrayList<>();
        int citations = 0;
        for (Path file : textFiles(root)) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            String name = root.relativize(file).toString();
            for (String outside : OUTSIDE) {
                if (text.contains(outside)) {
                    problems.add(name + " points outside the repository (" + outside + ")");
                }
            }
            Matcher m = CITATION.matcher(text);
            while (m.find()) {
                citations++;
                if (!sections.contains(m.group(1))) {
                    problems.add(name + " cites §" + m.group(1) + ", which docs/method.md does not have");
                }
            }
        }
        assertTrue(citations > 100, "the walk found only " + citations + " citations: is it reading the sources?");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** Headings "§N" and "§N.M", plus §8's numbered pitfalls as 8.1, 8.2, ... */
    private static Set<String> sections(String page) {
        Set<String> out = new TreeSet<>();
        Matcher h = HEADING.matcher(page);
        while (h.find()) {
            out.add(h.group(1));
        }
        int pitfalls = page.indexOf("## §8");
        if (pitfalls >= 0) {
            Matcher p = PITFALL.matcher(page.substring(pitfalls));
            while (p.find()) {
                out.add("8." + p.group(1));
            }
        }
        return out;
    }

    private static List<Path> textFiles(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> {
                        for (Path part : root.relativize(p)) {
                            if (SKIPPED_DIRS.contains(part.toString())) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .filter(p -> !root.relativize(p).startsWith("models") && !root.relativize(p).startsWith("data")
                            || p.getFileName().toString().endsWith(".md"))
                    .filter(p -> TEXT.matcher(p.getFileName().toString()).matches())
                    .filter(p -> !p.getFileName().toString().equals("method.md"))
                    .toList();
        }
    }
}
