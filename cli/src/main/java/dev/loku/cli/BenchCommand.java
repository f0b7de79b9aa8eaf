package dev.loku.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code loku bench}: throughput measurements, printed and never asserted. Each benchmark is a subcommand. */
@Command(name = "bench", description = "Measure throughput (printed, for comparison between machines and versions).",
        subcommands = {LmBenchCommand.class, PeerBenchCommand.class})
final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
