package dev.loku.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A compose implementation reads deploy/compose.yaml: Debian's {@code docker-compose} (1.29, which validates against
 * the Compose Specification's schema without a Docker engine) must accept the file alone and with the GPU override,
 * and what it renders (anchors merged, paths resolved, defaults filled in) must pass the same compose checks as the
 * file. Skipped, saying so, where the tool is not installed ({@code apt-get install docker-compose}; {@code .ci/run}
 * installs it when it can).
 */
class ComposeConfigTest {

    private static Path tool;
    private static Path root;

    @BeforeAll
    static void findTool() {
        root = DeployFiles.projectRoot();
        tool = onPath("docker-compose").orElse(null);
    }

    private static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static void assumeTool() {
        assumeTrue(tool != null, "docker-compose is not installed (apt-get install docker-compose): the compose file was "
                + "checked by DeployManifestsTest only, not by a compose implementation");
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result compose(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(tool.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        Path out = Files.createTempFile("compose", ".out");
        Path err = Files.createTempFile("compose", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        try {
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("docker-compose " + args[args.length - 1] + " did not finish in 60 s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Renders the files with docker-compose, checks the rendering like the file, and returns it. */
    private static Map<String, Object> assertRenderingAgrees(String label, String... files) throws Exception {
        List<String> args = new ArrayList<>();
        for (String f : files) {
            args.add("-f");
            args.add(f);
        }
        args.add("config");
        Result r = compose(root, args.toArray(String[]::new));
        assertEquals(0, r.exit(), () -> "docker-compose refused " + String.join(" + ", files) + ":\n" + r.err());
        Map<String, Object> rendered = DeployFiles.yamlMap(r.out(), label);
        DeployFiles withRendered = DeployFiles.load(root).withCompose(label, root.resolve("deploy"), rendered);
        List<String> problems = DeployChecker.checkCompose(withRendered, CodeFacts.fromCode());
        assertEquals(List.of(), problems, () -> String.join("\n", problems));
        return rendered;
    }

    @Test
    void dockerComposeAcceptsTheFileAndItsRenderingAgreesWithTheCode() throws Exception {
        assumeTool();
        assertRenderingAgrees("docker-compose config of deploy/compose.yaml", "deploy/compose.yaml");
    }

    @Test
    void theGpuOverrideMergesIntoAWorkerOnTheCudaImage() throws Exception {
        assumeTool();
        Map<String, Object> rendered = assertRenderingAgrees(
                "docker-compose config of deploy/compose.yaml + deploy/compose.gpu.yaml",
                "deploy/compose.yaml", "deploy/compose.gpu.yaml");
        Map<String, Object> worker = DeployChecker.map(DeployChecker.map(rendered.get("services")).get("worker"));
        assertEquals("loku/worker-cuda:dev", worker.get("image"));
        assertEquals("gpu", DeployChecker.map(worker.get("environment")).get("LOKU_WORKER_DEVICE"));
    }

    @Test
    void dockerComposeRefusesAMisspeltKey(@TempDir Path dir) throws Exception {
        assumeTool();
        // The same file with one typo, next to a copy of what its relative paths name.
        Path deploy = Files.createDirectories(dir.resolve("deploy"));
        String text = Files.readString(root.resolve("deploy/compose.yaml"))
                .replaceFirst("start_period: 60s", "start_perod: 60s");
        Files.writeString(deploy.resolve("compose.yaml"), text);

        Result r = compose(dir, "-f", "deploy/compose.yaml", "config", "-q");

        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("start_perod"), r.err());
    }
}
