package dev.loku.runtime.service;

import dev.loku.runtime.catalogue.InvalidCatalogueException;
import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigDocs;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.InvalidConfigException;
import dev.loku.runtime.config.LokuConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What each service's runnable jar does in its {@code main} ({@code java -jar ingest-service.jar [--config FILE]});
 * {@code loku serve X} runs the very same {@link Spec} inside the CLI. Apply the {@link JvmDefaults}, pick the logging
 * set-up, read the config file named by {@code --config} or {@value #CONFIG_FILE_ENV} (the {@code LOKU_*} variables
 * of the config fields override it), run the service until SIGTERM, and exit with its code:
 * <ul>
 *   <li>{@value #EXIT_USAGE}: bad arguments, bad configuration or catalogue, or a start-up refusal
 *       ({@link StartRefused}): one message on stderr, the problems one per line, no stack trace;</li>
 *   <li>{@value #EXIT_FAILED}: the service could not start for another reason, or failed for good while running;</li>
 *   <li>0 with {@code --help}. A service stopped by a signal exits like any JVM stopped by one (143 for SIGTERM)
 *       once its shutdown is done.</li>
 * </ul>
 * Stack traces appear only with {@value #DEBUG_ENV} set.
 */
public final class ServiceMain {

    /** Environment variable naming the config file when {@code --config} is not given. */
    public static final String CONFIG_FILE_ENV = "LOKU_CONFIG_FILE";
    /** Environment variable setting the level of the {@code dev.loku} loggers (default INFO). */
    public static final String LOG_LEVEL_ENV = "LOKU_LOG_LEVEL";
    /** Environment variable that makes start-up errors print their stack trace. */
    public static final String DEBUG_ENV = "LOKU_DEBUG";
    /** The {@code LOKU_*} variables a service jar reads that are not config fields. */
    public static final Set<String> LAUNCHER_ENV = Set.of(CONFIG_FILE_ENV, LOG_LEVEL_ENV, DEBUG_ENV);
    /** The logback configuration the service jars use (a class-path resource of this module). */
    public static final String LOGGING_CONFIG = "loku-service-logback.xml";

    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    private ServiceMain() {
    }

    /** Runs the service for a configuration file (null: environment and defaults only) and returns its exit code. */
    @FunctionalInterface
    public interface Entry {
        int run(Path configFile, Map<String, String> environment) throws Exception;
    }

    /**
     * One service's runnable jar.
     *
     * @param service     short name (ingest, fisher, worker, eval): messages start with {@code loku-<service>:}
     * @param jarName     the jar's file name, for the usage line
     * @param description what the service does, one paragraph for {@code --help}
     * @param groups      the config groups it reads, listed by {@code --help}
     * @param entry       the service's {@code run}
     */
    public record Spec(String service, String jarName, String description, List<ConfigGroup> groups, Entry entry) {
        public Spec {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(jarName, "jarName");
            Objects.requireNonNull(description, "description");
            groups = List.copyOf(groups);
            Objects.requireNonNull(entry, "entry");
        }

        /**
         * The spec of a service built from its typed configuration: the entry reads the {@code groups} (the file,
         * then the fields' {@code LOKU_*} variables, then defaults), types them with {@code typed}, builds the
         * service with {@code factory} and runs it with {@link ServiceRunner} on the common {@code http.port}.
         */
        public static <C> Spec of(String service, String jarName, String description, List<ConfigGroup> groups,
                                  Function<LokuConfig, C> typed, Factory<C> factory) {
            List<ConfigGroup> read = List.copyOf(groups);
            return new Spec(service, jarName, description, read, (file, environment) -> {
                LokuConfig raw = LokuConfig.load(file, environment, read);
                C config = typed.apply(raw);
                return ServiceRunner.run(factory.create(config), CommonConfig.from(raw).httpPort());
            });
        }
    }

    /** Builds a service from its typed configuration (and whatever engine that configuration asks for). */
    @FunctionalInterface
    public interface Factory<C> {
        Service create(C config) throws Exception;
    }

    /**
     * A service declined to start for a reason the operator can fix (its engine is not available in this build, for
     * instance). Reported like a configuration error: one line, exit {@value #EXIT_USAGE}.
     */
    public static final class StartRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public StartRefused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Calls an engine factory, turning its refusal ({@link IllegalStateException}, as the {@code Engine*.forConfig}
     * factories throw when they cannot serve the configuration) into a {@link StartRefused}.
     */
    public static <T> T refusalIsStartError(Supplier<T> factory) {
        try {
            return factory.get();
        } catch (IllegalStateException e) {
            throw new StartRefused(e.getMessage(), e);
        }
    }

    /** The jar's {@code main}: runs {@link #execute} with the process's environment and exits with its code. */
    public static void main(Spec spec, String[] args) {
        JvmDefaults.apply();
        if (System.getProperty("logback.configurationFile") == null) {
            // Before any logger exists: the service jars carry no logback.xml of their own (the CLI has one).
            System.setProperty("logback.configurationFile", LOGGING_CONFIG);
        }
        System.exit(execute(spec, args, System.getenv(), System.out, System.err));
    }

    /** Parses {@code args}, runs the service (or prints its help) and returns the exit code; never throws. */
    public static int execute(Spec spec, String[] args, Map<String, String> environment, PrintStream out,
                              PrintStream err) {
        String prefix = "loku-" + spec.service() + ": ";
        Path config = null;
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                help = true;
            } else if (arg.equals("--config") && i + 1 < args.length) {
                config = Path.of(args[++i]);
            } else if (arg.startsWith("--config=") && arg.length() > "--config=".length()) {
                config = Path.of(arg.substring("--config=".length()));
            } else {
                err.println(prefix + (arg.startsWith("--config") ? "--config needs a FILE" : "unknown argument '"
                        + arg + "'") + "; usage: " + usageLine(spec) + " (--help lists the configuration)");
                return EXIT_USAGE;
            }
        }
        if (help) {
            out.print(help(spec));
            out.flush();
            return 0;
        }
        String fromEnv = environment.get(CONFIG_FILE_ENV);
        if (config == null && fromEnv != null && !fromEnv.isBlank()) {
            config = Path.of(fromEnv.trim());
        }
        try {
            return spec.entry().run(config, environment);
        } catch (InvalidConfigException | InvalidCatalogueException | StartRefused e) {
            debug(environment, e, err);
            err.println(prefix + e.getMessage());
            return EXIT_USAGE;
        } catch (Exception | LinkageError e) {
            debug(environment, e, err);
            err.println(prefix + "cannot run (" + e.getClass().getSimpleName() + "): " + e.getMessage()
                    + (environment.get(DEBUG_ENV) == null ? " (set " + DEBUG_ENV + "=1 for details)" : ""));
            return EXIT_FAILED;
        }
    }

    /** {@code java -jar ingest-service.jar [--config FILE]}. */
    static String usageLine(Spec spec) {
        return "java -jar " + spec.jarName() + " [--config FILE]";
    }

    /** The {@code --help} text: usage, what the service does, how it is configured, its fields. */
    public static String help(Spec spec) {
        return "Usage: " + usageLine(spec) + "\n\n"
                + spec.description() + "\n\n"
                + "Configuration comes from the properties file FILE (or the file named by " + CONFIG_FILE_ENV
                + "), with\n"
                + "each field's LOKU_* environment variable overriding it, then the field's default (docs/configuration.md).\n"
                + LOG_LEVEL_ENV + " sets the level of the service's own log lines (default INFO); " + DEBUG_ENV
                + "=1 adds stack traces\n"
                + "to start-up errors. /health and /metrics are served on http.port.\n\n"
                + "Exit status: 2 for bad arguments or configuration, 1 when the service cannot start or fails for good;\n"
                + "after SIGTERM the service stops cleanly and the JVM exits with the signal's status (143).\n\n"
                + "Configuration fields:\n\n"
                + ConfigDocs.text(spec.groups());
    }

    private static void debug(Map<String, String> environment, Throwable e, PrintStream err) {
        if (environment.get(DEBUG_ENV) != null) {
            e.printStackTrace(err);
        }
    }
}
