package dev.loku.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.ErasureReason;
import dev.loku.events.ErasureRequest;
import dev.loku.events.QaPair;
import dev.loku.schemas.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku submit}: files one erasure request into a running stack (broker and registry from {@link StackOptions},
 * as the services are configured) and prints its request id. The request comes from a JSON file
 * ({@code {"tenantId", "modelId", "subjectId", "texts": [...], "qaPairs": [{"question", "answer"}], "reason",
 * "requestedBy"}}) or from the flags, the flags winning. With {@code --wait} it then follows {@code loku.audit}
 * until the request reaches a terminal status (VERIFIED, REJECTED or FAILED) and its data is purged, and prints the
 * trail as {@code loku status} does; exit code 0 for VERIFIED, {@value #NOT_VERIFIED} for REJECTED or FAILED,
 * {@value #TIMED_OUT} when {@code --timeout} passes first. The text to forget is sent to the topic and nowhere else:
 * it is never printed.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "File an erasure request into a running stack and print its request id; --wait follows it to "
                + "its verdict and prints the audit trail.")
final class SubmitCommand implements Callable<Integer> {

    /** Exit code when the request ended REJECTED or FAILED. */
    static final int NOT_VERIFIED = 4;
    /** Exit code when --wait ran out of time. */
    static final int TIMED_OUT = 5;

    @Spec
    CommandSpec spec;

    @Mixin
    StackOptions stack;

    @Option(names = "--file", paramLabel = "FILE", description = "The request as JSON (fields as in the flags below).")
    Path file;

    @Option(names = "--tenant", paramLabel = "ID", description = "Tenant the model belongs to (tenantId).")
    String tenant;

    @Option(names = "--model", paramLabel = "ID", description = "Model to unlearn from (modelId).")
    String model;

    @Option(names = "--subject", paramLabel = "ID", description = "Your reference for the data subject (subjectId).")
    String subject;

    @Option(names = "--text", paramLabel = "TEXT", description = "A text to forget; repeatable.")
    List<String> texts;

    @Option(names = "--qa", paramLabel = "QUESTION=ANSWER", description = "A question and answer to forget; repeatable.")
    List<String> qaPairs;

    @Option(names = "--reason", paramLabel = "REASON", description = "GDPR_ART17 (default), CONSENT_WITHDRAWN, "
            + "COPYRIGHT, LEGAL_ORDER or OTHER.")
    String reason;

    @Option(names = "--requested-by", paramLabel = "WHO", description = "Who asked (kept in the request, not in the audit).")
    String requestedBy;

    @Option(names = "--request-id", paramLabel = "UUID", description = "Use this request id (default: a new one); "
            + "re-submitting the same id is recognised as a repeat.")
    String requestId;

    @Option(names = "--keys-root", paramLabel = "DIR", description = "The pipeline's data key store folder (keys.root): "
            + "the content is sealed under the request's data key before it is sent, as ingest requires. Default: "
            + "keys.root of --config, else <artifacts.root>/keys of --config.")
    Path keysRoot;

    @Option(names = "--tenant-header", paramLabel = "NAME", description = "Also name the tenant in this record header, "
            + "as the trusted gateway does for ingest.tenant.header (only from a principal allowed to write the "
            + "request topic: the gateway's or an operator's).")
    String tenantHeader;

    @Option(names = "--wait", description = "Follow the request to its terminal status and print its audit trail.")
    boolean await;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m",
            description = "Longest --wait (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--poll", paramLabel = "DURATION", defaultValue = "2s", hidden = true,
            description = "How often --wait reads the audit trail.")
    String poll;

    @Option(names = "--json", description = "Print one JSON object: the request id, and with --wait its life as "
            + "loku status --json prints it.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ErasureRequest request = request();
        Duration wait = StatusCommand.duration("--timeout", timeout);
        Duration every = StatusCommand.duration("--poll", poll);
        StackOptions.Connection connection = stack.connect();
        request = dev.loku.runtime.crypto.SealedRequests.sealed(new dev.loku.runtime.crypto.ContentSeal(
                stack.keyStore(keysRoot)), request);
        send(connection, request, tenantHeader);
        PrintWriter out = spec.commandLine().getOut();
        UUID id = request.getRequestId();
        if (!await) {
            out.println(json ? CliJson.write(CliJson.MAPPER.createObjectNode().put("requestId", id.toString()))
                    : id.toString());
            out.flush();
            return 0;
        }
        if (!json) {
            out.println(id);
            out.flush();
        }
        long deadline = System.nanoTime() + wait.toNanos();
        List<AuditEvent> life = List.of();
        while (System.nanoTime() < deadline) {
            life = StatusCommand.trail(connection, id, Duration.ofSeconds(30), "30s");
            AuditStatus terminal = StatusCommand.terminal(life);
            boolean purged = life.stream().anyMatch(e -> e.getStatus() == AuditStatus.PURGED);
            // REJECTED requests hold no data to purge; a verdict is followed by the purge.
            if (terminal == AuditStatus.REJECTED || (terminal != null && purged)) {
                print(out, id, life);
                return terminal == AuditStatus.VERIFIED ? 0 : NOT_VERIFIED;
            }
            Thread.sleep(every.toMillis());
        }
        print(out, id, life);
        spec.commandLine().getErr().println("loku: request " + id + " reached no terminal status within " + timeout
                + (life.isEmpty() ? " (no audit events: is the ingest service running?)"
                : " (last: " + life.get(life.size() - 1).getStatus() + ")"));
        return TIMED_OUT;
    }

    private void print(PrintWriter out, UUID id, List<AuditEvent> life) {
        if (json) {
            out.println(CliJson.write(StatusCommand.toJson(id, life)));
        } else {
            StatusCommand.print(out, id, life);
        }
        out.flush();
    }

    private static void send(StackOptions.Connection connection, ErasureRequest request, String tenantHeader)
            throws InterruptedException {
        Map<String, Object> p = new HashMap<>(connection.kafka());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "loku-submit");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        Serializer<ErasureRequest> values = connection.serdes().valueSerializer(Topics.ERASURE_REQUESTS);
        try (KafkaProducer<String, ErasureRequest> producer = new KafkaProducer<>(p,
                Topics.ERASURE_REQUESTS.keySerde().serializer(), values)) {
            ProducerRecord<String, ErasureRequest> record = new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(),
                    request.getRequestId().toString(), request);
            if (tenantHeader != null) {
                record.headers().add(tenantHeader, request.getTenantId().getBytes(StandardCharsets.UTF_8));
            }
            producer.send(record).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException
                 | org.apache.kafka.common.KafkaException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new UserException("could not send the request to " + Topics.ERASURE_REQUESTS.name() + " at "
                    + connection.bootstrapServers() + ": " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
        }
    }

    /** The request from the file and the flags; a missing field or a bad value is a one-line user error. */
    ErasureRequest request() {
        JsonNode f = CliJson.MAPPER.createObjectNode();
        if (file != null) {
            DataFiles.requireFile("--file", file);
            try {
                f = CliJson.MAPPER.readTree(Files.readString(file));
            } catch (IOException e) {
                // Jackson quotes the input: say where, not what.
                throw new UserException("--file " + file + " is not a JSON object ("
                        + e.getClass().getSimpleName() + ")");
            }
            if (!f.isObject()) {
                throw new UserException("--file " + file + " is not a JSON object");
            }
        }
        String t = pick(tenant, f, "tenantId", "--tenant");
        String m = pick(model, f, "modelId", "--model");
        String s = pick(subject, f, "subjectId", "--subject");
        List<String> textList = new ArrayList<>();
        if (texts != null) {
            textList.addAll(texts);
        } else {
            f.path("texts").forEach(n -> textList.add(n.asText()));
        }
        List<QaPair> qa = new ArrayList<>();
        if (qaPairs != null) {
            for (String pair : qaPairs) {
                int eq = pair.indexOf('=');
                if (eq <= 0 || eq == pair.length() - 1) {
                    throw new UserException("--qa needs QUESTION=ANSWER (" + pair.length() + " characters without a '=' "
                            + "between two parts)");
                }
                qa.add(new QaPair(pair.substring(0, eq), pair.substring(eq + 1)));
            }
        } else {
            f.path("qaPairs").forEach(n -> qa.add(new QaPair(n.path("question").asText(), n.path("answer").asText())));
        }
        if (textList.isEmpty() && qa.isEmpty()) {
            throw new UserException("nothing to forget: give --text or --qa (or texts/qaPairs in --file)");
        }
        String r = reason != null ? reason : f.path("reason").asText("GDPR_ART17");
        ErasureReason why;
        try {
            why = ErasureReason.valueOf(r.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("--reason '" + r + "' is not one of GDPR_ART17, CONSENT_WITHDRAWN, COPYRIGHT, "
                    + "LEGAL_ORDER, OTHER");
        }
        UUID id;
        try {
            String given = requestId != null ? requestId : f.path("requestId").asText(null);
            id = given == null ? UUID.randomUUID() : UUID.fromString(given);
        } catch (IllegalArgumentException e) {
            throw new UserException("the request id is not a UUID");
        }
        String by = requestedBy != null ? requestedBy : f.path("requestedBy").asText(null);
        return ErasureRequest.newBuilder()
                .setRequestId(id)
                .setTenantId(t)
                .setModelId(m)
                .setSubjectId(s)
                .setTexts(textList)
                .setQaPairs(qa)
                .setReason(why)
                .setSubmittedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setRequestedBy(by)
                .build();
    }

    private static String pick(String flag, JsonNode file, String field, String option) {
        String v = flag != null ? flag : file.path(field).asText(null);
        if (v == null || v.isBlank()) {
            throw new UserException("missing " + field + ": give " + option + " or \"" + field + "\" in --file");
        }
        return v;
    }
}
