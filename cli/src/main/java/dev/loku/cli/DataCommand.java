package dev.loku.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code loku data}: make data sets for the engine commands. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Make data sets for finetune, unlearn and eval.",
        subcommands = {DataPersonsCommand.class})
final class DataCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
