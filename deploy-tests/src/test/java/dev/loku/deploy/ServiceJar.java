package dev.loku.deploy;

import dev.loku.deploy.CodeFacts.ServiceSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service's runnable jar as {@code mvn package} leaves it ({@code <module>/target/<module>.jar} and
 * {@code target/lib}), started the way the images start it: {@code java -jar}, in a fresh JVM, with a clean
 * environment (no LOKU_* variable of the build's own).
 */
record ServiceJar(ServiceSpec spec, Path jar) {

    static ServiceJar of(ServiceSpec spec) {
        Path jar = DeployFiles.projectRoot().resolve(spec.module()).resolve("target").resolve(spec.module() + ".jar");
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError(jar + " is missing: these tests run on what 'mvn verify' packaged");
        }
        return new ServiceJar(spec, jar);
    }

    /** What a finished run left. */
    record Run(int exit, String out, String err) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.startsWith("NOTE: Picked up")).toList();
        }
    }

    /** Starts {@code java -jar} with {@code env} added to a clean environment; output goes to files in {@code dir}. */
    Process start(Path dir, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("LOKU_") || k.startsWith("JAVA_TOOL") || k.startsWith("JDK_JAVA"));
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().putAll(env);
        pb.redirectOutput(dir.resolve("stdout.txt").toFile()).redirectError(dir.resolve("stderr.txt").toFile());
        try {
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs to the end (at most {@code seconds}). */
    Run run(Path dir, Map<String, String> env, int seconds, String... args) {
        Process p = start(dir, env, args);
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(jar.getFileName() + " " + String.join(" ", args) + " did not exit within "
                        + seconds + " s; stderr:\n" + read(dir.resolve("stderr.txt")));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return new Run(p.exitValue(), read(dir.resolve("stdout.txt")), read(dir.resolve("stderr.txt")));
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
