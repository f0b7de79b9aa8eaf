package dev.loku.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code loku experiment}: reproducible experiments that write their results into the project's docs. */
@Command(name = "experiment", description = "Run a reproducible experiment and write its results (Markdown, PNG,"
        + " JSON) into docs/experiments.", subcommands = {ExperimentMemorisationCommand.class, ExperimentTofuCommand.class})
final class ExperimentCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
