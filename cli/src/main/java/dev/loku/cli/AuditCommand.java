package dev.loku.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.runtime.audit.AuditChainVerifier;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code loku audit}: checks on the audit trail as a whole. */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "Checks on the audit trail (loku.audit) as a whole.",
        subcommands = AuditCommand.Verify.class)
final class AuditCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * {@code loku audit verify}: reads every partition of {@code loku.audit} from the beginning to its end offsets
     * (read_committed, no consumer group) and checks every writer's integrity chain (AuditChainVerifier): an edited,
     * removed, inserted or replayed event, and an event without chain fields, is a problem. Exit code 0 when the
     * trail is intact, {@value #BROKEN} when it is not, 2 for a usage error or an unreachable cluster. With
     * {@code --json} stdout holds one object: {@code {"topic", "events", "intact", "chains": [{"chainId", "length"}],
     * "problems": [{"kind", "chainId", "seq", "eventId", "detail"}]}}.
     */
    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check the audit trail's integrity chains: every event hashes its predecessor, so an edited,"
                    + " removed, inserted or replayed event is found. Exit code 0 when intact, " + Verify.BROKEN
                    + " when not.")
    static final class Verify implements Callable<Integer> {

        /** Exit code when the trail is not intact. */
        static final int BROKEN = 3;

        @Spec
        CommandSpec spec;

        @Mixin
        StackOptions stack;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s",
                description = "Longest wait for the audit trail to be read to its end (default: ${DEFAULT-VALUE}).")
        String timeout;

        @Option(names = "--json", description = "Print one JSON object instead of lines.")
        boolean json;

        @Option(names = "--topic", paramLabel = "NAME", defaultValue = "loku.audit",
                description = "The topic to check: the audit trail, or a mirrored or restored copy of it (default:"
                        + " ${DEFAULT-VALUE}).")
        String topic;

        @Override
        public Integer call() {
            Duration wait = StatusCommand.duration("--timeout", timeout);
            AuditChainVerifier.Report report = verify(stack.connect(), topic, wait, timeout);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(CliJson.write(toJson(topic, report)));
            } else {
                print(out, topic, report);
            }
            out.flush();
            return report.intact() ? 0 : BROKEN;
        }

        /** Reads the whole trail as it is now and checks it. */
        static AuditChainVerifier.Report verify(StackOptions.Connection stack, String topic, Duration wait,
                                                String waitText) {
            AuditChainVerifier verifier = new AuditChainVerifier();
            StatusCommand.readAudit(stack, topic, key -> true, r -> verifier.add(r.value()), wait, waitText);
            return verifier.report();
        }

        private static void print(PrintWriter out, String topic, AuditChainVerifier.Report r) {
            out.printf("%s: %d events in %d chains: %s%n", topic, r.events(), r.chainsByWriter().size(),
                    r.intact() ? "intact" : r.problems().size() + " problems");
            for (AuditChainVerifier.Problem p : r.problems()) {
                out.printf("  %-11s chain %s%s%s: %s%n", p.kind(), p.chainId(),
                        p.seq() == null ? "" : " position " + p.seq(),
                        p.eventId() == null ? "" : " event " + p.eventId(), p.detail());
            }
        }

        static ObjectNode toJson(String topic, AuditChainVerifier.Report r) {
            ObjectNode o = CliJson.MAPPER.createObjectNode();
            o.put("topic", topic);
            o.put("events", r.events());
            o.put("intact", r.intact());
            ArrayNode chains = o.putArray("chains");
            for (Map.Entry<String, Long> c : r.chainsByWriter().entrySet()) {
                chains.addObject().put("chainId", c.getKey()).put("length", c.getValue());
            }
            ArrayNode problems = o.putArray("problems");
            for (AuditChainVerifier.Problem p : r.problems()) {
                ObjectNode j = problems.addObject();
                j.put("kind", p.kind().name());
                j.put("chainId", p.chainId());
                if (p.seq() == null) {
                    j.putNull("seq");
                } else {
                    j.put("seq", p.seq());
                }
                j.put("eventId", p.eventId() == null ? null : p.eventId().toString());
                j.put("detail", p.detail());
            }
            return o;
        }
    }
}
