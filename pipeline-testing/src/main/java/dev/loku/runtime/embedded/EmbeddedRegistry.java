package dev.loku.runtime.embedded;

import dev.loku.runtime.serde.SchemaRegistryClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apicurio Registry 3.3.3 server in a child process: the distribution unpacked from Maven Central, run on a
 * Java 21+ runtime found on this machine ({@link JavaRuntimes}), bound to free loopback ports, storing schemas in
 * memory, its output in a log file rather than on the console. Once ready the global compatibility rule is set to
 * {@value #COMPATIBILITY}, the project's evolution rule. {@link #close()} stops the process and its children; a JVM
 * shutdown hook does the same if the owner never closes it.
 *
 * <p>{@link #launch()} returns while the server boots, so a caller can start the broker meanwhile and then
 * {@link #awaitReady(Duration)}; {@link #start()} does both.
 */
public final class EmbeddedRegistry implements AutoCloseable {

    /** System property naming the unpacked registry distribution. */
    public static final String HOME_PROPERTY = "loku.registry.home";
    /** Environment variable naming the unpacked registry distribution. */
    public static final String HOME_ENV = "LOKU_REGISTRY_HOME";
    /** System property naming the project root, under which the build unpacks the distribution. */
    public static final String PROJECT_ROOT_PROPERTY = "loku.project.root";
    /** System property naming the registry's log file (default: a temporary file, removed on a clean close). */
    public static final String LOG_PROPERTY = "loku.registry.log";
    /** The compatibility level set on the registry. */
    public static final String COMPATIBILITY = "FULL_TRANSITIVE";

    static final String DISTRIBUTION = "Apicurio Registry 3.3.3";
    static final String RELATIVE_HOME = "pipeline-testing/target/apicurio-registry";
    private static final int MIN_JAVA = 21;
    private static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(120);
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistry.class);

    private final Process process;
    private final Path home;
    private final Path javaLauncher;
    private final Path logFile;
    private final Path workDir;
    private final int httpPort;
    private final int managementPort;
    private final Thread shutdownHook;
    private final long launchedAt = System.nanoTime();
    private volatile boolean closed;

    private EmbeddedRegistry(Process process, Path home, Path java, Path logFile, Path workDir, int httpPort,
                             int managementPort) {
        this.process = process;
        this.home = home;
        this.javaLauncher = java;
        this.logFile = logFile;
        this.workDir = workDir;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
        this.shutdownHook = new Thread(() -> {
            stopProcess();
            EmbeddedKafka.deleteRecursively(workDir);
        }, "loku-registry-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Launches the registry and waits until it is ready (up to two minutes). */
    public static EmbeddedRegistry start() {
        return ready(launch(), DEFAULT_READY_TIMEOUT);
    }

    /**
     * Waits for a {@link #launch()}ed registry to be ready. If it lost the race for its free port to another process
     * (it picks ports before starting), it is relaunched on new ones, up to twice; the instance returned is the one
     * that runs. On failure the registry is closed and the error says why.
     */
    public static EmbeddedRegistry ready(EmbeddedRegistry launched, Duration timeout) {
        EmbeddedRegistry registry = launched;
        for (int attempt = 1; ; attempt++) {
            try {
                return registry.awaitReady(timeout);
            } catch (RuntimeException e) {
                boolean portTaken = registry.lostPortRace();
                if (!portTaken || attempt == 3) {
                    registry.close(true); // the error cites the log: keep it
                    throw e;
                }
                registry.close();
                LOG.info("event=registry_port_taken attempt={} action=relaunch", attempt);
                registry = launch(registry.home, registry.javaLauncher);
            }
        }
    }

    private boolean lostPortRace() {
        if (process.isAlive()) {
            return false;
        }
        String tail = logTail(60);
        return tail.contains("Address already in use") || tail.contains("already bound") || tail.contains("BindException");
    }

    /** Launches the registry process and returns at once; call {@link #awaitReady(Duration)} before use. */
    public static EmbeddedRegistry launch() {
        Path home = locateHome(System::getProperty, System::getenv, Path.of("").toAbsolutePath());
        JavaRuntimes.Runtime java = JavaRuntimes.ofThisMachine().find(MIN_JAVA, DISTRIBUTION);
        return launch(home, java.java());
    }

    static EmbeddedRegistry launch(Path home, Path java) {
        Path workDir;
        try {
            workDir = Files.createTempDirectory("loku-registry-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a working folder for the registry", e);
        }
        String configuredLog = System.getProperty(LOG_PROPERTY);
        Path logFile = configuredLog == null || configuredLog.isBlank() ? workDir.resolve("registry.log")
                : Path.of(configuredLog).toAbsolutePath();
        int httpPort = freePort();
        int managementPort = freePort();
        List<String> command = new ArrayList<>(List.of(
                java.toString(),
                // small and quick to start: a dev/test registry holds a few dozen schemas
                "-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.http.port=" + httpPort,
                "-Dquarkus.management.host=127.0.0.1",
                "-Dquarkus.management.port=" + managementPort,
                "-Dquarkus.http.access-log.enabled=false",
                // in-memory storage (the distribution's default, stated so no inherited setting can change it)
                "-Dapicurio.storage.kind=sql",
                "-Dapicurio.storage.sql.kind=h2",
                "-Dquarkus.log.console.color=false",
                "-jar", home.resolve("quarkus-run.jar").toString()));
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        // Flags meant for this JVM (agents, debuggers) must not leak into the registry's.
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("_JAVA_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        try {
            Files.createDirectories(logFile.getParent());
            Process process = pb.start();
            LOG.info("event=registry_launched pid={} port={} java={} log={}", process.pid(), httpPort, java, logFile);
            return new EmbeddedRegistry(process, home, java, logFile, workDir, httpPort, managementPort);
        } catch (IOException e) {
            EmbeddedKafka.deleteRecursively(workDir);
            throw new IllegalStateException("could not start the schema registry with " + java + ": " + e.getMessage(), e);
        }
    }

    /**
     * Waits until the registry answers its readiness check, then sets the global compatibility rule.
     *
     * @throws IllegalStateException if the process dies or is not ready in time (with the tail of its log)
     */
    public EmbeddedRegistry awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI ready = URI.create("http://127.0.0.1:" + managementPort + "/health/ready");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the schema registry exited with code " + process.exitValue()
                        + " before it was ready. Last lines of " + logFile + ":\n" + logTail(30));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // still booting
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the schema registry", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the schema registry was not ready within " + timeout.toSeconds()
                        + " s. Last lines of " + logFile + ":\n" + logTail(30));
            }
            sleep(100);
        }
        SchemaRegistryClient ccompat = new SchemaRegistryClient(ccompatUrl());
        ccompat.setGlobalCompatibility(COMPATIBILITY);
        LOG.info("event=registry_ready url={} compatibility={} seconds={}", registryUrl(), ccompat.globalCompatibility(),
                String.format("%.1f", (System.nanoTime() - launchedAt) / 1e9));
        return this;
    }

    /** The registry's core v3 API, which Apicurio's serdes talk to. */
    public String registryUrl() {
        return baseUrl() + "/apis/registry/v3";
    }

    /** The Confluent-compatible API, which Confluent clients talk to. */
    public String ccompatUrl() {
        return baseUrl() + "/apis/ccompat/v7";
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** Where the server's output goes. */
    public Path logFile() {
        return logFile;
    }

    /** The server process (for health checks and tests). */
    public ProcessHandle process() {
        return process.toHandle();
    }

    /** Stops the server and any children it started, and removes its working folder (and the log, if there). */
    @Override
    public void close() {
        close(false);
    }

    private void close(boolean keepLog) {
        if (closed) {
            return;
        }
        stopProcess();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
        if (!keepLog) {
            EmbeddedKafka.deleteRecursively(workDir); // holds the log unless loku.registry.log put it elsewhere
        }
        LOG.info("event=registry_stopped url={}", baseUrl());
    }

    private synchronized void stopProcess() {
        if (closed) {
            return;
        }
        closed = true;
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy(); // SIGTERM: Quarkus shuts down cleanly in well under a second
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    /**
     * The unpacked distribution: {@value #HOME_PROPERTY}, else {@value #HOME_ENV}, else
     * {@code <project root>/}{@value #RELATIVE_HOME}, the project root being {@value #PROJECT_ROOT_PROPERTY} or the
     * nearest folder above {@code cwd} that holds pipeline-testing.
     */
    static Path locateHome(UnaryOperator<String> systemProperties, UnaryOperator<String> environment, Path cwd) {
        String setting = systemProperties.apply(HOME_PROPERTY);
        String via = "-D" + HOME_PROPERTY;
        if (setting == null || setting.isBlank()) {
            setting = environment.apply(HOME_ENV);
            via = HOME_ENV;
        }
        Path home;
        if (setting != null && !setting.isBlank()) {
            home = Path.of(setting.trim());
        } else {
            String root = systemProperties.apply(PROJECT_ROOT_PROPERTY);
            Path projectRoot = root != null && !root.isBlank() ? Path.of(root) : findProjectRoot(cwd);
            home = projectRoot.resolve(RELATIVE_HOME);
            via = "the build's default location";
        }
        if (!Files.isRegularFile(home.resolve("quarkus-run.jar"))) {
            throw new IllegalStateException("The " + DISTRIBUTION + " server was not found at " + home.toAbsolutePath()
                    + " (" + via + "; no quarkus-run.jar there). The build unpacks it from Maven Central "
                    + "(io.apicurio:apicurio-registry-app:3.3.3, tar.gz, classifier all): run `mvn -pl pipeline-testing "
                    + "-am process-resources` in the project root, or set -D" + HOME_PROPERTY + " or " + HOME_ENV
                    + " to an unpacked copy.");
        }
        return home;
    }

    private static Path findProjectRoot(Path cwd) {
        for (Path p = cwd.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("pipeline-testing")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        return cwd.toAbsolutePath();
    }

    private String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port for the registry", e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the schema registry", e);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedRegistry[" + baseUrl() + ", pid " + process.pid() + "]";
    }

}
