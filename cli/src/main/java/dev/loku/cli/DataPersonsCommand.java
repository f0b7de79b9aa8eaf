package dev.loku.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.data.SyntheticPersons;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku data persons}: fictitious personal records ({@link SyntheticPersons}) as JSONL, one
 * {@code {"text": ..., "subject_id": ...}} object per line; the engine reads {@code text} and ignores the id, which
 * lets a user pick whose records to forget. The same seed and count always give the same file.
 */
@Command(name = "persons", mixinStandardHelpOptions = true,
        description = "Write seeded fictitious person records as JSONL ({\"text\": ...} lines).")
final class DataPersonsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--count", required = true, paramLabel = "N", description = "How many people.")
    int count;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The JSONL file to write.")
    Path out;

    @Override
    public void run() {
        List<SyntheticPersons.Person> persons;
        try {
            persons = SyntheticPersons.generate(seed, count);
        } catch (IllegalArgumentException e) {
            throw new UserException("--count: " + e.getMessage(), e);
        }
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                for (SyntheticPersons.Person p : persons) {
                    ObjectNode o = CliJson.MAPPER.createObjectNode();
                    o.put("text", p.text());
                    o.put("subject_id", p.subjectId());
                    w.write(CliJson.write(o));
                    w.write('\n');
                }
            }
        } catch (IOException e) {
            throw new UserException("--out: cannot write " + out + ": " + e.getMessage(), e);
        }
        PrintWriter w = spec.commandLine().getOut();
        w.println("wrote " + persons.size() + " person records to " + out);
        w.flush();
    }
}
