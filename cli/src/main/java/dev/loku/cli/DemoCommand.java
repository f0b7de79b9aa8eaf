package dev.loku.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.engine.FinetuneSettings;
import dev.loku.core.engine.RecordSetScores;
import dev.loku.core.engine.UnlearnSettings;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.model.Devices;
import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.JobProgress;
import dev.loku.events.ModelVersionPromoted;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.config.ConfigType;
import dev.loku.runtime.embedded.EmbeddedStack;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.job.JobWorkDir;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku demo}: the whole of LoKU Stream in one JVM. It makes a model that memorised synthetic person records
 * (stories260K fine-tuned, cached), starts the in-process broker and registry and the four services with the real
 * engine, submits erasure requests (persons to forget, plus requests the pipeline must refuse), prints one line per
 * stage and epoch, and ends with a table: per request its terminal status, verdict, MA and EL_10 on its own content
 * before and after (docs/method.md §5.1), and the retain NLL of its forget set before and after. It stops everything it
 * started and deletes its working folder (unless told to keep it). Exit code 0 when every request reached a terminal
 * status (VERIFIED, REJECTED or FAILED; a batched one also PURGED), 1 when the time ran out first.
 *
 * <p>Privacy: progress and results name requests by label and id, never by content; the content is on disk only
 * in the working folder (the artifact store, purged by the pipeline, and the demo's scoring scratch files).
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline in this JVM on a model that memorised synthetic person records: "
                + "broker, registry, ingest, Fisher, worker and eval services with the real engine; submit erasure "
                + "requests; show each stage; print what each request ended as and what the model forgot.",
                "Exit code 0 when every request reached VERIFIED, REJECTED or FAILED; 1 when --timeout ran out first."})
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--requests", paramLabel = "FILE",
            description = "JSONL of your own requests instead of the default script: one object per line, fields "
                    + "label, model, tenant, subjectId, texts [..], qaPairs [{question, answer}], or "
                    + "{\"label\": ..., \"undecodable\": true} (see README).")
    Path requestsFile;

    @Option(names = "--json", description = "Print one JSON summary on stdout (progress goes to stderr).")
    boolean json;

    @Option(names = "--persons", defaultValue = "3", paramLabel = "N",
            description = "Memorised persons whose erasure the default script requests (default: ${DEFAULT-VALUE}).")
    int forgetPersons;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "DEVICE",
            description = "Where the engine runs: auto, cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--timeout", defaultValue = "9m", paramLabel = "DURATION",
            description = "Longest wait for the requests to end, after they are sent (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where the memorised model is cached (default: .loku/cache under the project).")
    Path cacheDir;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Working folder of this run: artifact store, catalogue, service state (default: a new "
                    + "folder under .loku/demo-runs, deleted at the end).")
    Path workDir;

    @Option(names = "--keep-work-dir", description = "Keep the working folder at the end (for inspection).")
    boolean keepWorkDir;

    @Option(names = "--retain-persons", defaultValue = "21", hidden = true)
    int retainPersons;

    @Option(names = "--unseen-persons", defaultValue = "8", hidden = true)
    int unseenPersons;

    @Option(names = "--finetune-epochs", hidden = true, description = "Overrides the demo model's fine-tune epochs.")
    Integer finetuneEpochs;

    @Option(names = "--max-epochs", hidden = true, description = "Overrides the profile's unlearning epochs.")
    Integer maxEpochs;

    private long t0;
    private PrintWriter progress;

    /** What one request ended as. */
    record Outcome(String label, UUID requestId, String status, boolean purged, String reason, String forgetSet,
                   String verdict, Integer attempts, String version, Double maBefore, Double maAfter,
                   Double el10Before, Double el10After, Double retainNllBefore, Double retainNllAfter,
                   List<Step> trail) {
    }

    /** One audit event of a request (what {@code loku status} shows): content-free by construction. */
    record Step(String stage, String status, String service, String reason, String forgetSetId, String modelVersion,
                Integer attempt, String contentSha256) {
        static Step of(AuditEvent e) {
            return new Step(e.getStage().name(), e.getStatus().name(), e.getService(), e.getReason(),
                    e.getForgetSetId() == null ? null : e.getForgetSetId().toString(), e.getModelVersion(),
                    e.getAttempt(), e.getContentSha256());
        }
    }

    @Override
    public Integer call() throws Exception {
        t0 = System.nanoTime();
        PrintWriter out = spec.commandLine().getOut();
        progress = json ? spec.commandLine().getErr() : out;
        Duration wait = parseTimeout();
        if (forgetPersons < 1 || forgetPersons > 50 || retainPersons < 1 || unseenPersons < 1) {
            throw new UserException("--persons must be between 1 and 50");
        }
        List<DemoRequests.DemoRequest> custom = requestsFile == null ? null
                : DemoRequests.read(requestsFile, DemoPipeline.MODEL_ID, DemoPipeline.TENANT);
        Path root = Path.of(System.getProperty("loku.project.root", ".")).toAbsolutePath().normalize();
        Path base = root.resolve("models/stories260K/stories260K.bin");
        if (!Files.isRegularFile(base)) {
            throw new UserException("the demo needs " + base + " (the stories260K checkpoint); run it from the "
                    + "project folder with ./loku demo");
        }
        Path cache = cacheDir != null ? cacheDir : root.resolve(".loku/cache");
        boolean ownWorkDir = workDir == null;
        if (!ownWorkDir && Files.isDirectory(workDir)) {
            try (var entries = Files.list(workDir)) {
                if (entries.findAny().isPresent()) {
                    throw new UserException("--work-dir " + workDir + " is not empty; give a new or empty folder "
                            + "(the demo deletes it at the end unless --keep-work-dir)");
                }
            }
        }
        Path dir = ownWorkDir ? Files.createDirectories(root.resolve(".loku/demo-runs"))
                .resolve("run-" + UUID.randomUUID().toString().substring(0, 8)) : workDir.toAbsolutePath();
        Files.createDirectories(dir);

        UnlearningEngine engine;
        try {
            engine = new UnlearningEngine(Devices.parse(device));
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
        // Interrupted (Ctrl-C): the working folder holds the forget content until purged; do not leave it behind.
        Thread cleanup = new Thread(() -> {
            if (!keepWorkDir) {
                try {
                    JobWorkDir.deleteRecursively(dir);
                } catch (IOException e) {
                    System.err.println("loku demo: could not delete " + dir + "; delete it by hand");
                }
            }
        }, "loku-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            return run(engine, base, cache, dir, custom, wait, out);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
                cleanup.run();
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }

    /** The project's story texts, beside the shipped checkpoint (models/stories260K/x.bin → data/stories). */
    private static Path storiesOf(Path base) {
        return base.toAbsolutePath().getParent().getParent().getParent().resolve("data/stories/stories.jsonl");
    }

    private int run(UnlearningEngine engine, Path base, Path cache, Path dir, List<DemoRequests.DemoRequest> custom,
                    Duration wait, PrintWriter out) throws Exception {
        FinetuneSettings ft = DemoModel.FINETUNE;
        if (finetuneEpochs != null) {
            ft = new FinetuneSettings(finetuneEpochs, ft.learningRate(), ft.batchSize(), ft.seed());
        }
        int ftEpochs = ft.epochs();
        say("model: fine-tuning stories260K on %d synthetic persons (%d to forget, %d to retain; %d more never seen), "
                + "or reusing the cached result", forgetPersons + retainPersons, forgetPersons, retainPersons,
                unseenPersons);
        DemoModel model = DemoModel.prepare(engine, base, cache, dir.resolve("data"), forgetPersons, retainPersons,
                unseenPersons, ft, epoch -> {
                    if (epoch == ftEpochs || epoch % 10 == 0) {
                        say("model: fine-tune epoch %d/%d", epoch, ftEpochs);
                    }
                });
        say("model: %s %s", model.cached() ? "from cache" : String.format(Locale.ROOT, "fine-tuned, train MA %.3f,",
                model.trainMa()), model.modelDir());

        UnlearnSettings loku = UnlearnSettings.loku();
        int epochs = maxEpochs != null ? maxEpochs : loku.maxEpochs();
        Path catalogue = DemoPipeline.writeCatalogue(dir, model.modelDir(), model.retainJsonl(), model.unseenJsonl(),
                storiesOf(base), loku.loraRank(), loku.learningRate(), epochs, 0.10);
        List<DemoRequests.DemoRequest> requests = custom != null ? custom : DemoRequests.defaults(
                model.forgetPersons(), DemoPipeline.MODEL_ID, DemoPipeline.TENANT, DemoPipeline.MAX_CONTENT_BYTES);

        say("stack: starting the in-process Kafka broker and Apicurio registry");
        try (EmbeddedStack stack = EmbeddedStack.start()) {
            StackEndpoints endpoints = stack.endpoints();
            say("stack: broker %s, registry %s", endpoints.bootstrapServers(), endpoints.ccompatUrl());
            try (DemoPipeline pipeline = DemoPipeline.start(endpoints, dir, catalogue, device, null)) {
                say("services: ingest, fisher, worker, eval up (profile: IHL + FILA LoRA rank %d, lr %s, up to %d "
                        + "epochs)", loku.loraRank(), loku.learningRate(), epochs);
                List<DemoPipeline.Sent> sent = pipeline.submit(requests);
                for (DemoPipeline.Sent s : sent) {
                    say("submitted %-14s request %s", s.request().label(), s.requestId());
                }
                boolean ended;
                List<Outcome> outcomes;
                try (DemoPipeline.Tracker tracker = pipeline.track(sent)) {
                    ended = follow(tracker, sent, wait);
                    outcomes = outcomes(tracker, sent, pipeline, engine, dir.resolve("scoring"));
                }
                pipeline.close();
                say("stopped the services and the stack");
                report(out, outcomes, ended, model);
                return ended ? 0 : 1;
            }
        }
    }

    /** Polls until every request ended or {@code wait} ran out; prints each audit event and progress record. */
    private boolean follow(DemoPipeline.Tracker tracker, List<DemoPipeline.Sent> sent, Duration wait)
            throws InterruptedException {
        Map<UUID, String> labels = new java.util.HashMap<>();
        sent.forEach(s -> labels.put(s.requestId(), s.request().label()));
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            tracker.poll(e -> say("%-14s %-16s%s", labels.get(e.getRequestId()), e.getStatus(), detail(e)),
                    p -> say("set %s attempt %d %s%s", shortId(p.getForgetSetId()), p.getAttempt(), p.getPhase(),
                            epochText(p)));
            if (tracker.allEnded()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                say("timed out after %s with requests still open", timeout);
                return false;
            }
            Thread.sleep(500);
        }
    }

    private static String detail(AuditEvent e) {
        StringBuilder sb = new StringBuilder();
        if (e.getForgetSetId() != null && (e.getStatus() == AuditStatus.BATCHED
                || e.getStatus() == AuditStatus.IMPORTANCE_READY)) {
            sb.append(" set ").append(shortId(e.getForgetSetId()));
        }
        if (e.getAttempt() != null && e.getStatus() == AuditStatus.UNLEARNING) {
            sb.append(" attempt ").append(e.getAttempt());
        }
        if (e.getModelVersion() != null && (e.getStatus() == AuditStatus.VERIFIED
                || e.getStatus() == AuditStatus.UNLEARNED)) {
            sb.append(" version ").append(e.getModelVersion());
        }
        if (e.getReason() != null && !e.getReason().isBlank()) {
            sb.append(" (").append(e.getReason()).append(')');
        }
        return sb.toString();
    }

    private static String epochText(JobProgress p) {
        if (p.getMetrics() == null) {
            return p.getEpoch() > 0 ? " epoch " + p.getEpoch() + "/" + p.getMaxEpochs() : "";
        }
        double el10 = p.getMetrics().getForgetEl10();
        // NaN: the worker skipped EL_10 because forget MA is not yet below its threshold (worker.epoch.evaluation)
        return String.format(Locale.ROOT, " epoch %d/%d loss %.4f forget MA %.3f EL_10 %s", p.getEpoch(),
                p.getMaxEpochs(), p.getMetrics().getLoss(), p.getMetrics().getForgetMa(),
                Double.isNaN(el10) ? "-" : String.format(Locale.ROOT, "%.3f", el10));
    }

    private static String shortId(UUID id) {
        return id.toString().substring(0, 8);
    }

    /**
     * Per request: its terminal status and reason, its set's final verdict, and for a verified request its own
     * content's MA and EL_10 on the version its set started from and on the version it produced.
     */
    private List<Outcome> outcomes(DemoPipeline.Tracker tracker, List<DemoPipeline.Sent> sent, DemoPipeline pipeline,
                                   UnlearningEngine engine, Path scoring) throws IOException, InterruptedException {
        List<VerificationResult> verdicts = tracker.verdicts();
        List<ModelVersionPromoted> promotions = tracker.promotions();
        List<Outcome> out = new ArrayList<>();
        Set<UUID> scored = new HashSet<>();
        for (DemoPipeline.Sent s : sent) {
            List<AuditEvent> trail = tracker.trail(s.requestId());
            AuditEvent last = null;
            for (AuditEvent e : trail) {
                if (e.getStatus() == AuditStatus.VERIFIED || e.getStatus() == AuditStatus.REJECTED
                        || e.getStatus() == AuditStatus.FAILED) {
                    last = e;
                }
            }
            boolean purged = trail.stream().anyMatch(e -> e.getStatus() == AuditStatus.PURGED);
            String status = last != null ? last.getStatus().name()
                    : trail.isEmpty() ? "NOT SEEN" : trail.get(trail.size() - 1).getStatus().name() + " (open)";
            UUID set = trail.stream().map(AuditEvent::getForgetSetId).filter(java.util.Objects::nonNull)
                    .reduce((a, b) -> b).orElse(null);
            Optional<VerificationResult> verdict = verdicts.stream()
                    .filter(v -> set != null && v.getForgetSetId().equals(set)).reduce((a, b) -> b);
            String version = last != null && last.getStatus() == AuditStatus.VERIFIED ? last.getModelVersion() : null;
            Double maBefore = null;
            Double maAfter = null;
            Double elBefore = null;
            Double elAfter = null;
            if (version != null && s.request().hasContent() && scored.add(s.requestId())) {
                String previous = promotions.stream().filter(p -> p.getVersion().equals(version))
                        .map(ModelVersionPromoted::getPreviousVersion).findFirst().orElse("v0");
                RecordSetScores before = score(engine, pipeline.stores().versions().resolve(DemoPipeline.MODEL_ID,
                        previous == null ? "v0" : previous), s, scoring);
                RecordSetScores after = score(engine, pipeline.stores().versions().resolve(DemoPipeline.MODEL_ID,
                        version), s, scoring);
                maBefore = before.ma();
                maAfter = after.ma();
                elBefore = before.el10();
                elAfter = after.el10();
            }
            out.add(new Outcome(s.request().label(), s.requestId(), status, purged,
                    last != null ? last.getReason() : null, set == null ? null : set.toString(),
                    verdict.map(v -> v.getVerdict().name()).orElse(null),
                    verdict.map(VerificationResult::getAttempt).orElse(null), version, maBefore, maAfter, elBefore,
                    elAfter, verdict.map(v -> finite(v.getBefore().getRetainNll())).orElse(null),
                    verdict.map(v -> finite(v.getAfter().getRetainNll())).orElse(null),
                    trail.stream().map(Step::of).toList()));
        }
        return out;
    }

    /** The request's own content scored on {@code model}; the scratch file is deleted at once. */
    private RecordSetScores score(UnlearningEngine engine, Path model, DemoPipeline.Sent s, Path scoring)
            throws IOException, InterruptedException {
        Files.createDirectories(scoring);
        Path content = scoring.resolve(s.requestId() + ".jsonl");
        Files.writeString(content, s.request().contentJsonl(), StandardCharsets.UTF_8);
        try {
            return engine.score(model, content);
        } finally {
            Files.deleteIfExists(content);
        }
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private void report(PrintWriter out, List<Outcome> outcomes, boolean ended, DemoModel model) {
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (json) {
            ObjectNode o = CliJson.MAPPER.createObjectNode();
            o.put("allEnded", ended);
            o.put("seconds", Math.round(seconds * 10) / 10.0);
            o.put("modelFromCache", model.cached());
            ArrayNode list = o.putArray("requests");
            for (Outcome r : outcomes) {
                list.addPOJO(CliJson.MAPPER.valueToTree(r));
            }
            out.println(CliJson.write(o));
        } else {
            out.println();
            out.printf(Locale.ROOT, "%-14s %-36s %-9s %-7s %-6s %-15s %-17s %-15s %s%n", "request", "id", "status",
                    "verdict", "purged", "MA before>after", "EL10 before>after", "retain NLL", "version / reason");
            for (Outcome r : outcomes) {
                out.printf(Locale.ROOT, "%-14s %-36s %-9s %-7s %-6s %-15s %-17s %-15s %s%n", r.label(), r.requestId(),
                        r.status(), r.verdict() == null ? "-" : r.verdict() + (r.attempts() != null && r.attempts() > 1
                                ? "@" + r.attempts() : ""), r.purged() ? "yes" : "-",
                        pair(r.maBefore(), r.maAfter()), pair(r.el10Before(), r.el10After()),
                        pair(r.retainNllBefore(), r.retainNllAfter()),
                        r.version() != null ? r.version() : r.reason() == null ? "-" : r.reason());
            }
            out.printf(Locale.ROOT, "%n%s in %.1f s%n", ended ? "every request reached a terminal status"
                    : "some requests did not end in time", seconds);
        }
        out.flush();
    }

    private static String pair(Double before, Double after) {
        if (before == null || after == null) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.2f > %.2f", before, after);
    }

    private void say(String format, Object... args) {
        progress.printf(Locale.ROOT, "[%6.1fs] %s%n", (System.nanoTime() - t0) / 1e9, String.format(Locale.ROOT,
                format, args));
        progress.flush();
    }

    private Duration parseTimeout() {
        try {
            return ConfigType.DURATION.parse(timeout);
        } catch (IllegalArgumentException e) {
            throw new UserException("--timeout '" + timeout + "': " + e.getMessage());
        }
    }
}
