package dev.loku.core.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Python reference implementation (torch, transformers, PEFT) for the tests that check the engine against it.
 * Found at {@code LOKU_PYTHON}, else the {@code loku.python} system property (Surefire passes the parent POM's
 * default, {@code .ci/venv/bin/python}, which {@code .ci/run} builds). Where it is missing or lacks a package,
 * {@link #assumeAvailable} skips the test with the reason.
 *
 * <p>The scripts it runs are the project's own ({@code tools/fixtures/}); they run offline (the Hugging Face Hub is
 * switched off in their environment) and write only where they are told.
 */
public final class PythonOracle {
    private static final Duration PROBE_TIMEOUT = Duration.ofMinutes(2);
    private static volatile PythonOracle found;

    private final Path python;
    private final String unavailable;

    private PythonOracle(Path python, String unavailable) {
        this.python = python;
        this.unavailable = unavailable;
    }

    /** The oracle of this JVM, probed once ({@code import torch, transformers, peft, safetensors, tokenizers}). */
    public static PythonOracle get() {
        PythonOracle o = found;
        if (o == null) {
            synchronized (PythonOracle.class) {
                if (found == null) {
                    found = probe();
                }
                o = found;
            }
        }
        return o;
    }

    private static PythonOracle probe() {
        String env = System.getenv("LOKU_PYTHON");
        String prop = System.getProperty("loku.python");
        String configured = env != null && !env.isBlank() ? env : prop;
        if (configured == null || configured.isBlank() || configured.startsWith("${")) {
            return new PythonOracle(null, "no Python oracle configured (set LOKU_PYTHON, or run .ci/run to build"
                    + " .ci/venv)");
        }
        Path python = Path.of(configured);
        if (!Files.isExecutable(python)) {
            return new PythonOracle(null, "no Python oracle at " + python + " (run .ci/run to build it, or set"
                    + " LOKU_PYTHON)");
        }
        PythonOracle candidate = new PythonOracle(python, null);
        try {
            Result r = candidate.run(List.of("-c", "import torch, transformers, peft, safetensors, tokenizers;"
                    + " print(transformers.__version__, peft.__version__)"), PROBE_TIMEOUT);
            if (r.exitCode() != 0) {
                return new PythonOracle(null, python + " lacks torch/transformers/peft: " + lastLine(r.stderr()));
            }
            return candidate;
        } catch (IOException e) {
            return new PythonOracle(null, python + " does not run: " + e.getMessage());
        }
    }

    /** Skips the calling test, with the reason, when there is no usable oracle. */
    public PythonOracle assumeAvailable() {
        assumeTrue(unavailable == null, unavailable);
        return this;
    }

    /** The output of one script run. */
    public record Result(int exitCode, String stdout, String stderr) {}

    /** Runs {@code tools/fixtures/<script>} with {@code args}; fails the test (with its stderr) unless it exits 0. */
    public String script(String script, List<String> args, Duration timeout) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProjectFiles.root().resolve("tools").resolve("fixtures").resolve(script).toString());
        command.addAll(args);
        Result r = run(command, timeout);
        if (r.exitCode() != 0) {
            throw new AssertionError(script + " exited with " + r.exitCode() + ":\n" + tail(r.stderr(), 4000));
        }
        return r.stdout();
    }

    private Result run(List<String> args, Duration timeout) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(python.toString());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command);
        // Tests reach nothing but loopback: no Hub look-ups, no telemetry.
        pb.environment().put("HF_HUB_OFFLINE", "1");
        pb.environment().put("TRANSFORMERS_OFFLINE", "1");
        pb.environment().put("HF_HUB_DISABLE_TELEMETRY", "1");
        pb.environment().put("TOKENIZERS_PARALLELISM", "false");
        Path out = Files.createTempFile("loku-python", ".out");
        Path err = Files.createTempFile("loku-python", ".err");
        pb.redirectOutput(out.toFile());
        pb.redirectError(err.toFile());
        Process p = pb.start();
        try {
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", args) + " did not finish within " + timeout);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String lastLine(String s) {
        String t = s.strip();
        int nl = t.lastIndexOf('\n');
        return nl < 0 ? t : t.substring(nl + 1);
    }

    private static String tail(String s, int chars) {
        return s.length() <= chars ? s : "..." + s.substring(s.length() - chars);
    }
}
