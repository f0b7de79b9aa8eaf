package dev.loku.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code mainClass} in a JVM of its own, on this test's class path, with DJL offline and a clean environment (no
 * LOKU_* variable or JVM option of the build's own), for the tests that kill it; output in {@code dir}/stdout.txt and
 * stderr.txt.
 */
final class ChildJvm {

    private ChildJvm() {
    }

    /** Starts {@code java <jvmFlags> -Dai.djl.offline=true -cp <this class path> <mainClass> <args>} in {@code dir}. */
    static Process start(Path dir, List<String> jvmFlags, String mainClass, String... args) throws IOException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.addAll(List.of("-Dai.djl.offline=true", "-cp", classPath, mainClass));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("LOKU_") || k.startsWith("JAVA_TOOL")
                || k.startsWith("JDK_JAVA"));
        pb.environment().put("DJL_OFFLINE", "true");
        pb.redirectOutput(dir.resolve("stdout.txt").toFile()).redirectError(dir.resolve("stderr.txt").toFile());
        return pb.start();
    }
}
