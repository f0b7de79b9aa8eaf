package dev.loku.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code loku lm}: run a causal language model directly (score text, generate, export). */
@Command(name = "lm", description = "Run a causal language model: score text, generate, export to Hugging Face.",
        subcommands = {LmScoreCommand.class, LmGenerateCommand.class, LmExportCommand.class})
final class LmCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
