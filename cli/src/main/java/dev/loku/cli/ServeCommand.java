package dev.loku.cli;

import dev.loku.eval.EvalMain;
import dev.loku.fisher.FisherMain;
import dev.loku.ingest.IngestMain;
import dev.loku.runtime.catalogue.InvalidCatalogueException;
import dev.loku.runtime.config.ConfigDocs;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.InvalidConfigException;
import dev.loku.runtime.service.ServiceMain;
import dev.loku.worker.WorkerMain;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loku serve SERVICE --config FILE}: runs one pipeline service with its /health and /metrics endpoint until
 * SIGTERM or Ctrl-C, then stops it cleanly (exit 0), or exits 1 if the service fails. Each service's subcommand is
 * made from the {@link ServiceMain.Spec} its runnable jar runs ({@link #SERVICES}): the same name, description,
 * config groups and entry, so {@code loku serve fisher} and {@code java -jar fisher-service.jar} cannot drift apart.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run one pipeline service until SIGTERM or Ctrl-C.")
final class ServeCommand implements Runnable {

    /** The services {@code loku serve} runs, in pipeline order: the specs of their runnable jars. */
    static final List<ServiceMain.Spec> SERVICES = List.of(IngestMain.SPEC, FisherMain.SPEC, WorkerMain.SPEC,
            EvalMain.SPEC);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config-docs", description = "Print every service's configuration fields as Markdown tables "
            + "(the generated part of docs/configuration.md) and exit.")
    boolean configDocs;

    @Override
    public void run() {
        if (configDocs) {
            System.out.print(ConfigDocs.markdown(allGroups()));
            return;
        }
        spec.commandLine().usage(System.out);
    }

    /** The config groups of every service, each once, in {@link #SERVICES} order. */
    static List<ConfigGroup> allGroups() {
        Map<String, ConfigGroup> groups = new LinkedHashMap<>();
        for (ServiceMain.Spec service : SERVICES) {
            service.groups().forEach(g -> groups.putIfAbsent(g.name(), g));
        }
        return List.copyOf(groups.values());
    }

    /** Adds one subcommand per service spec to {@code serve}, its configuration fields in its {@code --help}. */
    static void addServices(CommandLine serve) {
        for (ServiceMain.Spec service : SERVICES) {
            CommandLine sub = new CommandLine(new Service(service));
            sub.getCommandSpec().usageMessage()
                    // The jar's description is wrapped for its own help; picocli wraps it again here.
                    .description(service.description().replace('\n', ' ').replace("%", "%%"))
                    .footerHeading("%nConfiguration (keys of the --config file; LOKU_* environment variables override "
                            + "them; --config-docs prints this as Markdown):%n%n")
                    .footer(ConfigDocs.text(service.groups()).replace("%", "%%"));
            serve.addSubcommand(service.service(), sub);
        }
    }

    /** {@code loku serve <service>}: the service's spec run inside the CLI. */
    @Command(mixinStandardHelpOptions = true)
    static final class Service implements Callable<Integer> {
        private final ServiceMain.Spec service;

        @Option(names = "--config", paramLabel = "FILE",
                description = "Properties file with the service's configuration (see below). Without it, only "
                        + "LOKU_* environment variables and defaults apply.")
        Path config;

        @Option(names = "--config-docs", description = "Print the configuration fields as a Markdown table and exit.")
        boolean configDocs;

        Service(ServiceMain.Spec service) {
            this.service = service;
        }

        @Override
        public Integer call() throws Exception {
            if (configDocs) {
                System.out.print(ConfigDocs.markdown(service.groups()));
                return 0;
            }
            if (System.getenv(ServiceMain.LOG_LEVEL_ENV) == null) {
                // A service's one-line events (started, rejected, cut...) are its operating log: INFO by default.
                ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.loku"))
                        .setLevel(ch.qos.logback.classic.Level.INFO);
            }
            try {
                return service.entry().run(config, System.getenv());
            } catch (InvalidConfigException | InvalidCatalogueException | ServiceMain.StartRefused e) {
                throw new UserException(e.getMessage(), e);
            }
        }
    }
}
