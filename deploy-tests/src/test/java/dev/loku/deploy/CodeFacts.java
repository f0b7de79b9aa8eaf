package dev.loku.deploy;

import dev.loku.eval.EvalConfig;
import dev.loku.eval.EvalMain;
import dev.loku.events.AuditStatus;
import dev.loku.fisher.FisherConfig;
import dev.loku.fisher.FisherMain;
import dev.loku.ingest.IngestConfig;
import dev.loku.ingest.IngestMain;
import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.LokuConfig;
import dev.loku.runtime.embedded.EmbeddedRegistry;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.service.ServiceMain;
import dev.loku.schemas.Topic;
import dev.loku.schemas.Topics;
import dev.loku.worker.WorkerConfig;
import dev.loku.worker.WorkerMain;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What the code says the deployment must look like, read from the code itself: the topic catalogue, each service's
 * config groups and main class, the metrics a service exposes, the audit statuses, the libtorch the JNI glue was
 * built for. {@link DeployChecker} compares {@code deploy/} with these.
 *
 * @param topics          the catalogue, as {@link TopicSpec}s
 * @param services        the four services
 * @param metricLabels    each sample name a service's /metrics can show, with its label names
 * @param auditStatuses   the symbols of {@link AuditStatus}
 * @param compatibility   the registry's compatibility rule
 */
record CodeFacts(List<TopicSpec> topics, List<ServiceSpec> services, Map<String, Set<String>> metricLabels,
                 Set<String> auditStatuses, String compatibility) {

    /** A topic as the manifests must create it. */
    record TopicSpec(String name, int partitions, long retentionMs, String cleanupPolicy) {
        static TopicSpec of(Topic<?, ?> t) {
            return new TopicSpec(t.name(), t.partitions(), t.retentionMs(), t.cleanupPolicy().configValue());
        }
    }

    /**
     * One service as deployed.
     *
     * @param name         ingest, fisher, worker, eval: also its compose service and {@code loku-<name>} Deployment
     * @param module       its Maven module, whose {@code target/<module>.jar} the images run
     * @param mainClass    the jar's main class
     * @param groups       the config groups it reads: the LOKU_* variables it understands
     * @param inputs       the topics it consumes; the first one is what its workers scale on
     * @param groupId      its consumer group, from its configuration
     * @param modelFiles   whether it opens the catalogue's model and data files
     * @param gpu          whether Kubernetes must schedule it on a GPU
     */
    record ServiceSpec(String name, String module, String mainClass, List<ConfigGroup> groups, List<String> inputs,
                       Function<LokuConfig, String> groupId, boolean modelFiles, boolean gpu) {

        String deployment() {
            return "loku-" + name;
        }

        /** Every environment variable the service understands: its fields' and the launcher's. */
        Set<String> knownEnv() {
            Set<String> names = new TreeSet<>(ServiceMain.LAUNCHER_ENV);
            groups.forEach(g -> g.fields().forEach(f -> names.add(f.envVar())));
            return names;
        }
    }

    static CodeFacts fromCode() {
        List<TopicSpec> topics = Topics.ALL.stream().map(TopicSpec::of).toList();
        List<ServiceSpec> services = List.of(
                new ServiceSpec("ingest", "ingest-service", IngestMain.class.getName(), IngestMain.SPEC.groups(),
                        List.of(Topics.ERASURE_REQUESTS.name(), Topics.VERIFICATIONS.name()),
                        c -> IngestConfig.from(c).applicationId(), false, false),
                new ServiceSpec("fisher", "fisher-service", FisherMain.class.getName(), FisherMain.SPEC.groups(),
                        List.of(Topics.FORGET_SETS.name()), c -> FisherConfig.from(c).groupId(), true, false),
                new ServiceSpec("worker", "unlearn-worker", WorkerMain.class.getName(), WorkerMain.SPEC.groups(),
                        List.of(Topics.IMPORTANCE.name()), c -> WorkerConfig.from(c).groupId(), true, true),
                new ServiceSpec("eval", "eval-service", EvalMain.class.getName(), EvalMain.SPEC.groups(),
                        List.of(Topics.CANDIDATES.name(), Topics.VERIFICATIONS.name()),
                        c -> EvalConfig.from(c).groupId(), true, false));
        Set<String> statuses = Arrays.stream(AuditStatus.values()).map(Enum::name)
                .collect(Collectors.toCollection(TreeSet::new));
        return new CodeFacts(topics, services, exposedMetrics(), statuses, EmbeddedRegistry.COMPATIBILITY);
    }

    /** The same facts with another topic catalogue (what a change to {@code Topics} would give). */
    CodeFacts withTopics(List<TopicSpec> changed) {
        return new CodeFacts(List.copyOf(changed), services, metricLabels, auditStatuses, compatibility);
    }

    Optional<TopicSpec> topic(String name) {
        return topics.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    Optional<ServiceSpec> serviceByModule(String module) {
        return services.stream().filter(s -> s.module().equals(module)).findFirst();
    }

    /** The HTTP port field every service reads. */
    static ConfigField<Integer> httpPortField() {
        return CommonConfig.HTTP_PORT;
    }

    static int defaultHttpPort() {
        return CommonConfig.HTTP_PORT.defaultValue().orElseThrow();
    }

    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? \\S+");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"");

    /**
     * Every sample name of a service's /metrics with its label names, read from a {@link ServiceMetrics} that has
     * seen one of everything and then scraped, so histogram series ({@code _bucket}, {@code _sum}, {@code _count})
     * come out as Prometheus sees them.
     */
    static Map<String, Set<String>> exposedMetrics() {
        ServiceMetrics m = new ServiceMetrics("probe");
        m.request("ACCEPTED");
        m.jobSeconds("succeeded", 1.0);
        m.consumerLag(() -> 0);
        m.up(() -> 1);
        m.duplicate();
        m.deadLetter();
        Map<String, Set<String>> samples = new LinkedHashMap<>();
        for (String line : m.scrape().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher sample = SAMPLE.matcher(line);
            if (!sample.matches()) {
                throw new IllegalStateException("unexpected /metrics line: " + line);
            }
            Set<String> labels = samples.computeIfAbsent(sample.group(1), k -> new TreeSet<>());
            if (sample.group(2) != null) {
                Matcher l = LABEL.matcher(sample.group(2));
                while (l.find()) {
                    labels.add(l.group(1));
                }
            }
        }
        return samples;
    }

    /** The libtorch version the pytorch-jni on the class path was built for ({@code 2.7.1} of {@code 2.7.1-0.36.0}). */
    static String jniLibtorchVersion() {
        try (InputStream in = CodeFacts.class.getClassLoader().getResourceAsStream("jnilib/pytorch.properties")) {
            if (in == null) {
                throw new IllegalStateException("pytorch-jni is not on the test class path");
            }
            Properties p = new Properties();
            p.load(in);
            String jni = p.getProperty("jni_version");
            return jni.substring(0, jni.indexOf('-'));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether pytorch-jni carries a JNI library for this PYTORCH_FLAVOR on linux-x86_64. */
    static boolean jniHasFlavor(String flavor) {
        return CodeFacts.class.getClassLoader().getResource("jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so") != null;
    }
}
