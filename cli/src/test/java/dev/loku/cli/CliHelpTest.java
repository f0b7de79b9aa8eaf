package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code --help} works on every command the CLI registers. The commands come from walking picocli's command tree
 * (services under {@code serve} included), so a command added later is covered without editing this test.
 */
class CliHelpTest {

    @Test
    void everyCommandAndSubcommandAnswersHelpWithExitZero() {
        List<List<String>> paths = new ArrayList<>();
        collect(LokuCli.commandLine(), new ArrayList<>(), paths);
        assertTrue(paths.size() > 20, "the walk found only " + paths + "; is the tree wired?");
        assertTrue(paths.contains(List.of("lm", "score")) && paths.contains(List.of("bench", "lm"))
                && paths.contains(List.of("experiment", "memorisation")), "known commands in the walk: " + paths);

        List<String> failures = new ArrayList<>();
        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            LmCliTest.Run run = LmCliTest.run(args.toArray(String[]::new));
            String name = String.join(" ", path);
            if (run.exitCode() != 0) {
                failures.add("loku " + name + " --help: exit " + run.exitCode() + ": " + run.err().strip());
            } else if (!run.out().contains("Usage: loku" + (name.isEmpty() ? "" : " " + name))) {
                failures.add("loku " + name + " --help printed no usage: " + run.out());
            }
        }
        assertEquals(List.of(), failures);
    }

    private static void collect(CommandLine command, List<String> path, List<List<String>> out) {
        out.add(List.copyOf(path));
        command.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandName().equals(name)) { // aliases would repeat the same command
                List<String> next = new ArrayList<>(path);
                next.add(name);
                collect(sub, next, out);
            }
        });
    }
}
