package dev.loku.runtime.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding a Java 21+ runtime for the registry, on fake JDK folders. */
class JavaRuntimesTest {

    @TempDir
    Path tmp;

    private Path jdk(String dirName, String javaVersion) throws IOException {
        Path home = tmp.resolve("jvm").resolve(dirName);
        Files.createDirectories(home.resolve("bin"));
        Path java = Files.createFile(home.resolve("bin/java"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"" + javaVersion + "\"\n");
        return java;
    }

    private JavaRuntimes runtimes(Map<String, String> props, Map<String, String> env, int running) {
        return new JavaRuntimes(props::get, env::get, List.of(tmp.resolve("jvm"), tmp.resolve("missing")), running,
                tmp.resolve("running-jvm"));
    }

    @Test
    void picksTheNewestInstalledJdkWhenJavaHomeIsTooOld() throws IOException {
        Path java17 = jdk("java-17-openjdk-amd64", "17.0.15");
        jdk("temurin-21-jdk-amd64", "21.0.5");
        Path java25 = jdk("temurin-25-jdk-amd64", "25.0.1");
        JavaRuntimes.Runtime r = runtimes(Map.of(), Map.of("JAVA_HOME", java17.getParent().getParent().toString()), 17)
                .find(21, "the registry");
        assertEquals(java25, r.java());
        assertEquals(25, r.feature());
    }

    @Test
    void javaHomeWinsWhenNewEnough() throws IOException {
        Path java21 = jdk("temurin-21", "21.0.5");
        jdk("temurin-25", "25.0.1");
        JavaRuntimes.Runtime r = runtimes(Map.of(), Map.of("JAVA_HOME", java21.getParent().getParent().toString()), 17)
                .find(21, "the registry");
        assertEquals(java21, r.java());
        assertEquals("JAVA_HOME", r.foundVia());
    }

    @Test
    void explicitSettingWinsAndAcceptsAHomeFolderOrTheLauncher() throws IOException {
        Path java22 = jdk("custom-22", "22");
        jdk("temurin-25", "25.0.1");
        Path home = java22.getParent().getParent();
        assertEquals(java22, runtimes(Map.of(JavaRuntimes.JAVA_PROPERTY, home.toString()), Map.of(), 17)
                .find(21, "the registry").java());
        assertEquals(java22, runtimes(Map.of(), Map.of(JavaRuntimes.JAVA_ENV, java22.toString()), 17)
                .find(21, "the registry").java());
    }

    @Test
    void explicitSettingThatIsTooOldOrMissingIsAClearError() throws IOException {
        Path java17 = jdk("java-17", "17.0.15");
        IllegalStateException old = assertThrows(IllegalStateException.class,
                () -> runtimes(Map.of(JavaRuntimes.JAVA_PROPERTY, java17.toString()), Map.of(), 17).find(21, "the registry"));
        assertTrue(old.getMessage().contains("points at Java 17") && old.getMessage().contains("needs Java 21"), old.getMessage());
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> runtimes(Map.of(), Map.of(JavaRuntimes.JAVA_ENV, tmp.resolve("nope").toString()), 17).find(21, "the registry"));
        assertTrue(missing.getMessage().startsWith(JavaRuntimes.JAVA_ENV + " is set to"), missing.getMessage());
    }

    @Test
    void noSuitableJavaNamesWhatWasSeenAndWhatToInstall() throws IOException {
        jdk("java-17-openjdk-amd64", "17.0.15");
        jdk("java-8", "1.8.0_402");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> runtimes(Map.of(), Map.of(), 17).find(21, "Apicurio Registry 3.3.3"));
        String m = e.getMessage();
        assertTrue(m.startsWith("Apicurio Registry 3.3.3 needs Java 21 or newer to run, and none was found."), m);
        assertTrue(m.contains("java-17-openjdk-amd64 (Java 17)") && m.contains("java-8 (Java 8)"), m);
        assertTrue(m.contains("openjdk-21-jre-headless") && m.contains("-Dloku.registry.java") && m.contains("LOKU_REGISTRY_JAVA"), m);
    }

    @Test
    void theRunningJvmIsUsedWhenNewEnough() throws IOException {
        Path running = tmp.resolve("running-jvm/bin/java");
        Files.createDirectories(running.getParent());
        Files.createFile(running, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        JavaRuntimes.Runtime r = runtimes(Map.of(), Map.of(), 21).find(21, "the registry");
        assertEquals(running, r.java());
        assertEquals("the running JVM", r.foundVia());
    }
}
