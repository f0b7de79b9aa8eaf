package dev.loku.cli;

import dev.loku.eval.EvalConfig;
import dev.loku.eval.EvalService;
import dev.loku.fisher.FisherConfig;
import dev.loku.fisher.FisherService;
import dev.loku.ingest.IngestConfig;
import dev.loku.ingest.IngestService;
import dev.loku.worker.WorkerConfig;
import dev.loku.worker.WorkerService;
import dev.loku.runtime.catalogue.InvalidCatalogueException;
import dev.loku.runtime.config.ConfigDocs;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.InvalidConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loku serve SERVICE --config FILE}: runs one pipeline service with its /health and /metrics endpoint until
 * SIGTERM or Ctrl-C, then stops it cleanly (exit 0), or exits 1 if the service fails. Each service is a
 * subcommand implementing {@link ServiceCommand}; its configuration fields are listed in its {@code --help}.
 */
@Command(name = "serve", description = "Run one pipeline service until SIGTERM or Ctrl-C.",
        subcommands = {ServeCommand.Ingest.class, ServeCommand.Fisher.class, ServeCommand.Worker.class,
                ServeCommand.Eval.class})
final class ServeCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config-docs", description = "Print every service's configuration fields as Markdown tables "
            + "(the generated part of docs/configuration.md) and exit.")
    boolean configDocs;

    @Override
    public void run() {
        if (configDocs) {
            System.out.print(ConfigDocs.markdown(allGroups(spec.commandLine())));
            return;
        }
        spec.commandLine().usage(System.out);
    }

    /** The config groups of every service subcommand, each once, in subcommand order. */
    static List<ConfigGroup> allGroups(CommandLine serve) {
        java.util.LinkedHashMap<String, ConfigGroup> groups = new java.util.LinkedHashMap<>();
        for (CommandLine sub : serve.getSubcommands().values()) {
            if (sub.getCommand() instanceof ServiceCommand s) {
                s.configGroups().forEach(g -> groups.putIfAbsent(g.name(), g));
            }
        }
        return List.copyOf(groups.values());
    }

    /** A service subcommand: which config groups it reads, for {@code --help} and {@code --config-docs}. */
    interface ServiceCommand {
        List<ConfigGroup> configGroups();
    }

    /** Adds each service's configuration fields to its {@code --help}. */
    static void describeConfig(CommandLine serve) {
        for (CommandLine sub : serve.getSubcommands().values()) {
            if (sub.getCommand() instanceof ServiceCommand s) {
                sub.getCommandSpec().usageMessage()
                        .footerHeading("%nConfiguration (keys of the --config file; LOKU_* environment variables override "
                                + "them; --config-docs prints this as Markdown):%n%n")
                        .footer(ConfigDocs.text(s.configGroups()).replace("%", "%%"));
            }
        }
    }

    /** Options every service takes. */
    abstract static class ServiceOptions implements Callable<Integer>, ServiceCommand {
        @Option(names = "--config", paramLabel = "FILE",
                description = "Properties file with the service's configuration (see below). Without it, only "
                        + "LOKU_* environment variables and defaults apply.")
        Path config;

        @Option(names = "--config-docs", description = "Print the configuration fields as a Markdown table and exit.")
        boolean configDocs;

        @Override
        public Integer call() throws Exception {
            if (configDocs) {
                System.out.print(ConfigDocs.markdown(configGroups()));
                return 0;
            }
            if (System.getenv("LOKU_LOG_LEVEL") == null) {
                // A service's one-line events (started, rejected, cut...) are its operating log: INFO by default.
                ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.loku"))
                        .setLevel(ch.qos.logback.classic.Level.INFO);
            }
            try {
                return serve();
            } catch (InvalidConfigException | InvalidCatalogueException e) {
                throw new UserException(e.getMessage());
            }
        }

        abstract int serve() throws Exception;
    }

    @Command(name = "ingest", mixinStandardHelpOptions = true,
            description = "The ingest service: validates erasure requests, dead-letters unreadable ones, dedupes, and "
                    + "batches accepted requests per model into forget sets (Kafka Streams, exactly-once).")
    static final class Ingest extends ServiceOptions {
        @Override
        public List<ConfigGroup> configGroups() {
            return IngestConfig.GROUPS;
        }

        @Override
        int serve() throws Exception {
            return IngestService.run(config, System.getenv());
        }
    }

    @Command(name = "fisher", mixinStandardHelpOptions = true,
            description = "The Fisher service: for each forget set, the Fisher importance of the base version over the "
                    + "forget set and a retain sample, stored and announced as ImportanceReady.")
    static final class Fisher extends ServiceOptions {
        @Override
        public List<ConfigGroup> configGroups() {
            return FisherConfig.GROUPS;
        }

        @Override
        int serve() throws Exception {
            return FisherService.run(config, System.getenv(), EngineBoundaries::importance);
        }
    }

    @Command(name = "worker", mixinStandardHelpOptions = true,
            description = "The unlearning worker: for each importance, a FILA-initialised LoRA trained with the inverted "
                    + "hinge loss, published as a candidate version and announced as UnlearnCompleted. Partitions stay "
                    + "paused while a job runs; outputs and offsets commit in one transaction.")
    static final class Worker extends ServiceOptions {
        @Override
        public List<ConfigGroup> configGroups() {
            return WorkerConfig.GROUPS;
        }

        @Override
        int serve() throws Exception {
            return WorkerService.run(config, System.getenv(), EngineBoundaries::unlearning);
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "The eval service: scores base and candidate on forget, retain and unseen data, decides the "
                    + "verdict (promote, retry stronger, or fail), and purges the forget data after final verdicts.")
    static final class Eval extends ServiceOptions {
        @Override
        public List<ConfigGroup> configGroups() {
            return EvalConfig.GROUPS;
        }

        @Override
        int serve() throws Exception {
            return EvalService.run(config, System.getenv(), EngineBoundaries::evaluator);
        }
    }
}
