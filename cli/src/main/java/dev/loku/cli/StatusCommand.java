package dev.loku.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.runtime.kafka.TopicCatchUp;
import dev.loku.schemas.Topics;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code loku status REQUEST_ID}: one erasure request's life, from the audit trail. Reads every partition of
 * {@code loku.audit} from the beginning up to its end offsets (read_committed; no consumer group, nothing
 * committed), keeps the events keyed by the request id, and prints them in log order (the order the pipeline
 * committed them; the times are the services' clocks): time, stage, status, service, reason, forget set, model
 * version, attempt. Exit code 0 when the request has events, {@value #NOT_FOUND} when it has none, 2 for a usage
 * error or an unreachable cluster. With {@code --json} stdout holds exactly one JSON object:
 * {@code {"requestId", "found", "status", "terminal", "purged", "events": [...]}}.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Print an erasure request's life from the audit trail (loku.audit). Exit code 0 when found, "
                + StatusCommand.NOT_FOUND + " when the request has no audit events.")
final class StatusCommand implements Callable<Integer> {

    /** Exit code when the request has no audit events. */
    static final int NOT_FOUND = 3;

    private static final Set<AuditStatus> TERMINAL = Set.of(AuditStatus.VERIFIED, AuditStatus.REJECTED,
            AuditStatus.FAILED);

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "REQUEST_ID", description = "The erasure request's id (a UUID).")
    String requestId;

    @Mixin
    StackOptions stack;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s",
            description = "Longest wait for the audit trail to be read to its end (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() {
        UUID id;
        try {
            id = UUID.fromString(requestId);
        } catch (IllegalArgumentException e) {
            throw new UserException("'" + requestId + "' is not a request id: request ids are UUIDs");
        }
        Duration wait = parseTimeout();
        List<AuditEvent> life = trail(stack.connect(), id, wait, timeout);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(CliJson.write(toJson(id, life)));
        } else {
            print(out, id, life);
        }
        out.flush();
        return life.isEmpty() ? NOT_FOUND : 0;
    }

    /**
     * The request's audit events in log order, read from {@code loku.audit} up to its end offsets as they are now.
     *
     * @throws UserException when the topic cannot be read within {@code wait}
     */
    static List<AuditEvent> trail(StackOptions.Connection stack, UUID id, Duration wait, String waitText) {
        List<ConsumerRecord<String, AuditEvent>> events = new ArrayList<>();
        byte[] key = id.toString().getBytes(StandardCharsets.UTF_8);
        readAudit(stack, Topics.AUDIT.name(), k -> Arrays.equals(k, key), r -> {
            if (id.equals(r.value().getRequestId())) {
                events.add(r);
            }
        }, wait, waitText);
        events.sort(Comparator.<ConsumerRecord<String, AuditEvent>>comparingInt(ConsumerRecord::partition)
                .thenComparingLong(ConsumerRecord::offset));
        return events.stream().map(ConsumerRecord::value).toList();
    }

    /**
     * Hands {@code sink} every committed audit event on {@code topic} (the trail or a copy of it) whose raw key
     * passes {@code keyFilter}, read up to the end offsets as they are now.
     *
     * @throws UserException when the topic cannot be read within {@code wait}
     */
    static void readAudit(StackOptions.Connection stack, String topic, java.util.function.Predicate<byte[]> keyFilter,
                          java.util.function.Consumer<ConsumerRecord<String, AuditEvent>> sink, Duration wait,
                          String waitText) {
        try (TopicCatchUp<String, AuditEvent> audit = new TopicCatchUp<>(stack.kafka(), Topics.AUDIT, topic,
                stack.serdes())) {
            audit.catchUp(keyFilter, sink, wait);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new UserException("could not read " + topic + " from " + stack.bootstrapServers()
                    + " within " + waitText + "; check --bootstrap-servers (or the config file) and that the cluster is up");
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new UserException("could not read " + topic + ": " + e.getClass().getSimpleName()
                    + ": " + e.getMessage());
        }
    }

    private Duration parseTimeout() {
        return duration("--timeout", timeout);
    }

    /** A duration option's value; a bad one is a one-line user error naming the option. */
    static Duration duration(String option, String text) {
        try {
            return dev.loku.runtime.config.ConfigType.DURATION.parse(text);
        } catch (IllegalArgumentException e) {
            throw new UserException(option + " '" + text + "': " + e.getMessage());
        }
    }

    /** The last terminal status, if the request reached one. */
    static AuditStatus terminal(List<AuditEvent> life) {
        AuditStatus t = null;
        for (AuditEvent e : life) {
            if (TERMINAL.contains(e.getStatus())) {
                t = e.getStatus();
            }
        }
        return t;
    }

    static ObjectNode toJson(UUID id, List<AuditEvent> life) {
        ObjectNode o = CliJson.MAPPER.createObjectNode();
        o.put("requestId", id.toString());
        o.put("found", !life.isEmpty());
        o.put("status", life.isEmpty() ? null : life.get(life.size() - 1).getStatus().name());
        AuditStatus terminal = terminal(life);
        o.put("terminal", terminal == null ? null : terminal.name());
        o.put("purged", life.stream().anyMatch(e -> e.getStatus() == AuditStatus.PURGED));
        ArrayNode list = o.putArray("events");
        for (AuditEvent e : life) {
            ObjectNode n = list.addObject();
            n.put("time", e.getTime().toString());
            n.put("stage", e.getStage().name());
            n.put("status", e.getStatus().name());
            n.put("service", e.getService());
            n.put("reason", e.getReason());
            n.put("forgetSetId", e.getForgetSetId() == null ? null : e.getForgetSetId().toString());
            n.put("modelVersion", e.getModelVersion());
            n.put("attempt", e.getAttempt());
            n.put("modelId", e.getModelId());
            n.put("tenantId", e.getTenantId());
            n.put("contentSha256", e.getContentSha256());
            n.put("eventId", e.getEventId().toString());
        }
        return o;
    }

    static void print(PrintWriter out, UUID id, List<AuditEvent> life) {
        if (life.isEmpty()) {
            out.println("request " + id + ": no audit events (unknown request, or not read by ingest yet)");
            return;
        }
        AuditEvent first = life.get(0);
        AuditStatus terminal = terminal(life);
        out.printf(Locale.ROOT, "request %s  model %s  tenant %s%n", id, nz(first.getModelId()), nz(first.getTenantId()));
        out.printf(Locale.ROOT, "status: %s%s%n", terminal == null ? "in progress (" + life.get(life.size() - 1)
                .getStatus() + ")" : terminal, life.stream().anyMatch(e -> e.getStatus() == AuditStatus.PURGED)
                ? ", data purged" : "");
        out.printf(Locale.ROOT, "%-24s  %-12s  %-16s  %-7s  %-13s  %-36s  %-28s  %s%n", "time (UTC)", "stage",
                "status", "attempt", "version", "forget set", "service", "reason");
        DateTimeFormatter time = DateTimeFormatter.ISO_INSTANT;
        for (AuditEvent e : life) {
            out.printf(Locale.ROOT, "%-24s  %-12s  %-16s  %-7s  %-13s  %-36s  %-28s  %s%n",
                    time.format(e.getTime().truncatedTo(ChronoUnit.MILLIS)), e.getStage(), e.getStatus(),
                    e.getAttempt() == null ? "-" : e.getAttempt().toString(), nz(e.getModelVersion()),
                    e.getForgetSetId() == null ? "-" : e.getForgetSetId().toString(), e.getService(),
                    nz(e.getReason()));
        }
    }

    private static String nz(String s) {
        return s == null ? "-" : s;
    }
}
