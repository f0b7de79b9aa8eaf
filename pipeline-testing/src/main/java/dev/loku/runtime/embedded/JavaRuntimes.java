package dev.loku.runtime.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds a Java runtime new enough for the registry server (Apicurio Registry 3.x is built for Java 21), since the
 * project itself runs on Java 17. Order: an explicit setting ({@value #JAVA_PROPERTY} system property, then
 * {@value #JAVA_ENV}), then JAVA_HOME if it is new enough, then the running JVM if it is, then the newest suitable
 * JDK in the usual install folders (/usr/lib/jvm and others).
 */
public final class JavaRuntimes {

    public static final String JAVA_PROPERTY = "loku.registry.java";
    public static final String JAVA_ENV = "LOKU_REGISTRY_JAVA";

    private static final Pattern JAVA_VERSION = Pattern.compile("^JAVA_VERSION=\"?([0-9]+)(?:\\.([0-9]+))?", Pattern.MULTILINE);

    /** A java launcher and the feature release (17, 21, 25...) it runs. */
    public record Runtime(Path java, int feature, String foundVia) {
    }

    private final UnaryOperator<String> systemProperties;
    private final UnaryOperator<String> environment;
    private final List<Path> installRoots;
    private final int runningFeature;
    private final Path runningHome;

    JavaRuntimes(UnaryOperator<String> systemProperties, UnaryOperator<String> environment, List<Path> installRoots,
                 int runningFeature, Path runningHome) {
        this.systemProperties = systemProperties;
        this.environment = environment;
        this.installRoots = installRoots;
        this.runningFeature = runningFeature;
        this.runningHome = runningHome;
    }

    /** Looks at this process's system properties and environment and the usual install folders. */
    public static JavaRuntimes ofThisMachine() {
        String home = System.getProperty("user.home", "/nonexistent");
        return new JavaRuntimes(System::getProperty, System::getenv, List.of(
                Path.of("/usr/lib/jvm"), Path.of("/usr/java"), Path.of("/opt/java"), Path.of("/opt"),
                Path.of("/Library/Java/JavaVirtualMachines"), Path.of(home, ".sdkman", "candidates", "java"),
                Path.of(home, ".jdks")),
                java.lang.Runtime.version().feature(), Path.of(System.getProperty("java.home")));
    }

    /**
     * A java launcher of at least {@code minFeature}.
     *
     * @throws IllegalStateException naming what was looked at and what to install, when there is none
     */
    public Runtime find(int minFeature, String neededBy) {
        List<String> looked = new ArrayList<>();
        String explicit = systemProperties.apply(JAVA_PROPERTY);
        String via = "-D" + JAVA_PROPERTY;
        if (blank(explicit)) {
            explicit = environment.apply(JAVA_ENV);
            via = JAVA_ENV;
        }
        if (!blank(explicit)) {
            return explicit(Path.of(explicit.trim()), via, minFeature, neededBy);
        }
        String javaHome = environment.apply("JAVA_HOME");
        if (!blank(javaHome)) {
            Optional<Runtime> r = inspect(Path.of(javaHome.trim()), "JAVA_HOME");
            if (r.isPresent() && r.get().feature() >= minFeature) {
                return r.get();
            }
            looked.add("JAVA_HOME=" + javaHome + r.map(x -> " (Java " + x.feature() + ")").orElse(" (no JDK there)"));
        }
        if (runningFeature >= minFeature) {
            Path java = launcher(runningHome);
            if (Files.isExecutable(java)) {
                return new Runtime(java, runningFeature, "the running JVM");
            }
        }
        looked.add("the running JVM (Java " + runningFeature + ")");
        List<Runtime> installed = new ArrayList<>();
        for (Path root : installRoots) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> dirs = Files.list(root)) {
                dirs.sorted().forEach(dir -> {
                    Optional<Runtime> r = inspect(dir, dir.toString());
                    if (r.isEmpty()) {
                        r = inspect(dir.resolve("Contents/Home"), dir.toString()); // macOS bundle layout
                    }
                    r.ifPresent(installed::add);
                });
            } catch (IOException e) {
                looked.add(root + " (unreadable: " + e.getMessage() + ")");
            }
        }
        Optional<Runtime> best = installed.stream().filter(r -> r.feature() >= minFeature)
                .max(Comparator.comparingInt(Runtime::feature));
        if (best.isPresent()) {
            return best.get();
        }
        installed.forEach(r -> looked.add(r.foundVia() + " (Java " + r.feature() + ")"));
        throw new IllegalStateException(neededBy + " needs Java " + minFeature + " or newer to run, and none was found. "
                + "Looked at: " + String.join(", ", looked) + ". Install one (e.g. `sudo apt-get install openjdk-"
                + minFeature + "-jre-headless`, or Temurin " + minFeature + "+ from adoptium.net) or point -D"
                + JAVA_PROPERTY + " or " + JAVA_ENV + " at its java launcher or home folder.");
    }

    private Runtime explicit(Path path, String via, int minFeature, String neededBy) {
        Path java = Files.isDirectory(path) ? launcher(path) : path;
        if (!Files.isRegularFile(java) || !Files.isExecutable(java)) {
            throw new IllegalStateException(via + " is set to " + path + ", but " + java + " is not an executable java "
                    + "launcher; set it to a Java " + minFeature + "+ home folder or its bin/java.");
        }
        // .../bin/java -> home; the release file tells the version without starting a JVM.
        Path home = java.toAbsolutePath().getParent() == null ? null : java.toAbsolutePath().getParent().getParent();
        Optional<Integer> feature = home == null ? Optional.empty() : releaseFeature(home);
        if (feature.isPresent() && feature.get() < minFeature) {
            throw new IllegalStateException(via + " points at Java " + feature.get() + " (" + java + "), but " + neededBy
                    + " needs Java " + minFeature + " or newer.");
        }
        return new Runtime(java, feature.orElse(minFeature), via);
    }

    /** The JDK or JRE at {@code home}, if it has a launcher and a readable release file. */
    static Optional<Runtime> inspect(Path home, String foundVia) {
        Path java = launcher(home);
        if (!Files.isExecutable(java)) {
            return Optional.empty();
        }
        return releaseFeature(home).map(f -> new Runtime(java, f, foundVia));
    }

    static Optional<Integer> releaseFeature(Path home) {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return Optional.empty();
        }
        try {
            Matcher m = JAVA_VERSION.matcher(Files.readString(release));
            if (!m.find()) {
                return Optional.empty();
            }
            int major = Integer.parseInt(m.group(1));
            // "1.8.0_402" means Java 8
            return Optional.of(major == 1 && m.group(2) != null ? Integer.parseInt(m.group(2)) : major);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Path launcher(Path home) {
        boolean windows = System.getProperty("os.name", "").toLowerCase().startsWith("windows");
        return home.resolve("bin").resolve(windows ? "java.exe" : "java");
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
