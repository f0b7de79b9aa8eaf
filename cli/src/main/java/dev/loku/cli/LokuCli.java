package dev.loku.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code loku} command. Each subcommand is its own class; this one only wires them together and turns
 * user-caused failures into one-line messages (no stack traces for users, STYLE.md).
 */
@Command(
        name = "loku",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "LoKU Stream: make language models forget data on request (inverted hinge loss + FILA-initialised LoRA).",
        subcommands = {
                VersionCommand.class,
                LmCommand.class,
                BenchCommand.class,
                ExperimentCommand.class,
                ServeCommand.class,
                SubmitCommand.class,
                StatusCommand.class,
                AuditCommand.class,
                FinetuneCommand.class,
                UnlearnCommand.class,
                EvalCommand.class,
                DataCommand.class,
                DemoCommand.class,
                CommandLine.HelpCommand.class
        })
public final class LokuCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        // No subcommand: show what there is.
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code; used by {@link #main} and by tests. */
    public static int execute(String... args) {
        JvmDefaults.apply();
        return commandLine().execute(args);
    }

    /** The whole command tree, with the services under {@code serve} and the one-line error handler. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new LokuCli());
        ServeCommand.addServices(cli.getSubcommands().get("serve"));
        withHelpEverywhere(cli);
        cli.setExecutionExceptionHandler(new UserErrorHandler());
        return cli;
    }

    /**
     * Every command and subcommand answers {@code -h/--help} (and {@code -V/--version}) with exit 0, including the
     * ones added later or built at run time (the services under {@code serve}), without each class declaring it.
     */
    private static void withHelpEverywhere(CommandLine command) {
        CommandLine.Model.CommandSpec spec = command.getCommandSpec();
        if (spec.findOption("--help") == null) {
            spec.mixinStandardHelpOptions(true);
        }
        for (CommandLine sub : command.getSubcommands().values()) {
            withHelpEverywhere(sub);
        }
    }
}
