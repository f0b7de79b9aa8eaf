package dev.loku.runtime.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.LokuConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceMainTest {

    private static final List<ConfigGroup> GROUPS = List.of(CommonConfig.GROUP);

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final AtomicReference<Path> seenConfig = new AtomicReference<>();

    /** Runs a spec whose entry records the config path and then does {@code then}. */
    private int run(Map<String, String> env, ServiceMain.Entry then, String... args) {
        ServiceMain.Spec spec = new ServiceMain.Spec("demo", "demo-service.jar", "A demo service.", GROUPS,
                (file, environment) -> {
                    seenConfig.set(file);
                    return then.run(file, environment);
                });
        return ServiceMain.execute(spec, args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static void assertNoStackTrace(String text) {
        assertFalse(text.contains("\tat "), () -> "stack trace in: " + text);
        assertFalse(text.contains("Exception:"), () -> "exception dump in: " + text);
    }

    @Test
    void helpListsUsageAndEveryFieldWithItsVariableWithoutRunning() {
        int code = run(Map.of(), (f, e) -> 99, "--help");

        assertEquals(0, code);
        String help = out.toString(StandardCharsets.UTF_8);
        assertTrue(help.startsWith("Usage: java -jar demo-service.jar [--config FILE]\n"), help);
        assertTrue(help.contains("A demo service."), help);
        for (ConfigField<?> f : CommonConfig.GROUP.fields()) {
            assertTrue(help.contains(f.envVar()), () -> f.envVar() + " missing from the help");
        }
        assertTrue(help.contains(ServiceMain.CONFIG_FILE_ENV), help);
        assertNull(seenConfig.get(), "--help must not run the service");
    }

    @Test
    void unknownArgumentIsOneLineUsageErrorAndRunsNothing() {
        int code = run(Map.of(), (f, e) -> 0, "--conifg", "x.properties");

        assertEquals(ServiceMain.EXIT_USAGE, code);
        assertEquals(List.of("loku-demo: unknown argument '--conifg'; usage: java -jar demo-service.jar [--config FILE]"
                + " (--help lists the configuration)"), err().lines().toList());
        assertNull(seenConfig.get());
    }

    @Test
    void configWithoutFileIsAUsageError() {
        assertEquals(ServiceMain.EXIT_USAGE, run(Map.of(), (f, e) -> 0, "--config"));
        assertTrue(err().startsWith("loku-demo: --config needs a FILE"), err());
        assertNull(seenConfig.get());
    }

    @Test
    void configFileComesFromTheArgumentOrElseFromTheEnvironment() {
        Map<String, String> env = Map.of(ServiceMain.CONFIG_FILE_ENV, "/etc/loku/from-env.properties");

        assertEquals(0, run(env, (f, e) -> 0));
        assertEquals(Path.of("/etc/loku/from-env.properties"), seenConfig.get());

        assertEquals(0, run(env, (f, e) -> 0, "--config", "a.properties"));
        assertEquals(Path.of("a.properties"), seenConfig.get());

        assertEquals(0, run(Map.of(), (f, e) -> 0, "--config=b.properties"));
        assertEquals(Path.of("b.properties"), seenConfig.get());

        assertEquals(0, run(Map.of(), (f, e) -> 0));
        assertNull(seenConfig.get(), "no file: environment and defaults only");
    }

    @Test
    void theServiceExitCodeIsPassedThrough() {
        assertEquals(1, run(Map.of(), (f, e) -> 1));
        assertEquals("", err());
    }

    @Test
    void badConfigurationIsReportedFieldByFieldWithoutStackTrace(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("svc.properties"), "artifacts.root=/var/lib/loku\n");
        Map<String, String> env = Map.of("LOKU_HTTP_PORT", "99999");

        int code = run(env, (f, e) -> {
            LokuConfig.load(f, e, GROUPS);
            return 0;
        }, "--config", file.toString());

        assertEquals(ServiceMain.EXIT_USAGE, code);
        List<String> lines = err().lines().toList();
        assertEquals("loku-demo: invalid configuration in " + file + ":", lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  models.catalogue is required")), err());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  http.port = '99999' (environment LOKU_HTTP_PORT)")),
                err());
        assertEquals(3, lines.size(), err());
        assertNoStackTrace(err());
    }

    @Test
    void aTypedSpecReadsItsGroupsFromTheFileThenTheEnvironmentAndBuildsItsServiceFromThem(@TempDir Path dir)
            throws Exception {
        Path file = Files.writeString(dir.resolve("svc.properties"),
                "artifacts.root=/var/lib/loku\nmodels.catalogue=/etc/loku/models.json\nhttp.port=8081\n");
        AtomicReference<String> built = new AtomicReference<>();
        ServiceMain.Spec spec = ServiceMain.Spec.of("demo", "demo-service.jar", "A demo service.", GROUPS,
                config -> config.get(CommonConfig.ARTIFACTS_ROOT) + " on " + config.get(CommonConfig.HTTP_PORT),
                typed -> {
                    built.set(typed);
                    throw new ServiceMain.StartRefused("'demo' cannot start: built from " + typed, null);
                });

        int code = ServiceMain.execute(spec, new String[] {"--config", file.toString()},
                Map.of("LOKU_HTTP_PORT", "9090"), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        assertEquals(ServiceMain.EXIT_USAGE, code);
        assertEquals("/var/lib/loku on 9090", built.get());
        assertEquals(List.of("loku-demo: 'demo' cannot start: built from /var/lib/loku on 9090"), err().lines().toList());
    }

    @Test
    void anEngineRefusalIsAOneLineStartError() {
        int code = run(Map.of(), (f, e) -> ServiceMain.refusalIsStartError(() -> {
            throw new IllegalStateException("'demo' cannot start: no engine in this build");
        }));

        assertEquals(ServiceMain.EXIT_USAGE, code);
        assertEquals(List.of("loku-demo: 'demo' cannot start: no engine in this build"), err().lines().toList());
    }

    @Test
    void anyOtherStartFailureIsOneLineNamingItsTypeAndExitsOne() {
        int code = run(Map.of(), (f, e) -> {
            throw new UncheckedIOException("cannot open the artifact store at /data", new java.io.IOException("denied"));
        });

        assertEquals(ServiceMain.EXIT_FAILED, code);
        assertEquals(List.of("loku-demo: cannot run (UncheckedIOException): cannot open the artifact store at /data"
                + " (set LOKU_DEBUG=1 for details)"), err().lines().toList());
    }

    @Test
    void debugAddsTheStackTrace() {
        int code = run(Map.of(ServiceMain.DEBUG_ENV, "1"), (f, e) -> {
            throw new IllegalArgumentException("boom");
        });

        assertEquals(ServiceMain.EXIT_FAILED, code);
        assertTrue(err().contains("\tat "), err());
        assertTrue(err().lines().anyMatch(l -> l.equals("loku-demo: cannot run (IllegalArgumentException): boom")),
                err());
    }
}
