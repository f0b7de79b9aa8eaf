package dev.loku.core.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the project's own copies of the model and data: from the {@code loku.project.root} system property that
 * Surefire sets, or by walking up from the working directory to the folder holding {@code models/stories260K}.
 */
public final class ProjectFiles {
    private ProjectFiles() {}

    public static Path root() {
        String prop = System.getProperty("loku.project.root");
        if (prop != null && Files.isDirectory(Path.of(prop, "models", "stories260K"))) {
            return Path.of(prop);
        }
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("models").resolve("stories260K"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the project root (models/stories260K) from "
                + System.getProperty("user.dir"));
    }

    public static Path stories260K() {
        return root().resolve("models").resolve("stories260K");
    }

    public static Path data(String relative) {
        return root().resolve("data").resolve(relative);
    }
}
