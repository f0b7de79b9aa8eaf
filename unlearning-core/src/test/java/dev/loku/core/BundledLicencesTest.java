package dev.loku.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.core.testing.ProjectFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every model and data set the repository bundles states its licence next to it: each folder directly under
 * {@code models/} and {@code data/} holds a {@code LICENSE} file or a README with a {@code Licence:} line, and the
 * repository itself has its {@code LICENSE}. A legal review starts from these statements.
 */
class BundledLicencesTest {

    private static final Pattern LICENCE_LINE = Pattern.compile("(?m)^Licen[cs]e: \\S.*");

    @Test
    void everyBundledModelAndDataFolderStatesItsLicence() throws IOException {
        Path root = ProjectFiles.root();
        assertTrue(Files.readString(root.resolve("LICENSE"), StandardCharsets.UTF_8).contains("Apache License"),
                "the repository's own LICENSE");
        List<Path> folders = new ArrayList<>();
        for (String top : List.of("models", "data")) {
            try (Stream<Path> children = Files.list(root.resolve(top))) {
                children.filter(Files::isDirectory).forEach(folders::add);
            }
        }
        assertTrue(folders.size() >= 5, "bundled folders found: " + folders);
        List<String> missing = new ArrayList<>();
        for (Path folder : folders) {
            if (!statesLicence(folder)) {
                missing.add(root.relativize(folder) + " (add a LICENSE file or a 'Licence: ...' line to its README.md)");
            }
        }
        assertEquals(List.of(), missing, "bundled folders without a licence statement");
    }

    @Test
    void aFolderWithoutAStatementIsFound(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("README.md"), "# Some data\n\nTaken from somewhere.\n");
        assertTrue(!statesLicence(dir), "a README without a Licence line is not a statement");
        Files.writeString(dir.resolve("README.md"), "# Some data\n\nLicence: CC-BY-4.0\n");
        assertTrue(statesLicence(dir));
    }

    private static boolean statesLicence(Path folder) throws IOException {
        if (Files.isRegularFile(folder.resolve("LICENSE"))) {
            return true;
        }
        Path readme = folder.resolve("README.md");
        return Files.isRegularFile(readme)
                && LICENCE_LINE.matcher(Files.readString(readme, StandardCharsets.UTF_8)).find();
    }
}
