package dev.loku.deploy;

import static dev.loku.deploy.DeployChecker.list;
import static dev.loku.deploy.DeployChecker.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.deploy.CodeFacts.TopicSpec;
import dev.loku.deploy.DeployFiles.K8sDoc;
import dev.loku.schemas.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/} agrees with the code, and the checker notices when it does not: each test below changes one
 * thing in a parsed copy of the manifests (or in the facts read from the code) and expects the exact sentence an
 * operator would read.
 */
class DeployManifestsTest {

    private static DeployFiles files;
    private static CodeFacts code;

    @BeforeAll
    static void load() {
        files = DeployFiles.load(DeployFiles.projectRoot());
        code = CodeFacts.fromCode();
    }

    private static String report(List<String> problems) {
        return problems.isEmpty() ? "no problems" : String.join("\n", problems);
    }

    @Test
    void theManifestsAgreeWithTheCode() {
        List<String> problems = DeployChecker.check(files, code);
        assertEquals(List.of(), problems, () -> "deploy/ disagrees with the code:\n" + report(problems));
    }

    @Test
    void theChecksSeeEverythingTheyCheck() {
        // Guards against a checker that passes because it found nothing to look at.
        assertEquals(Topics.ALL.size(), files.k8s.stream().filter(d -> d.kind().equals("KafkaTopic")).count());
        assertEquals(4, files.k8s.stream().filter(d -> d.kind().equals("Deployment")).count());
        assertEquals(5, files.dockerfiles.size(), () -> "Dockerfiles: " + files.dockerfiles.keySet());
        assertTrue(code.metricLabels().containsKey("loku_job_seconds_count"), () -> code.metricLabels().toString());
        assertTrue(code.metricLabels().get("loku_requests_total").contains("status"));
    }

    // ------------------------------------------------------------------------------------------------ topics

    private static Map<String, Object> kafkaTopic(DeployFiles f, String name) {
        return f.k8s.stream().filter(d -> d.kind().equals("KafkaTopic") && d.name().equals(name)).map(K8sDoc::doc)
                .findFirst().orElseThrow();
    }

    @Test
    void aPartitionCountChangedInAKafkaTopicIsReported() {
        DeployFiles changed = files.copy();
        map(kafkaTopic(changed, "loku.importance").get("spec")).put("partitions", 3);

        assertEquals(List.of("deploy/k8s/topics.yaml: KafkaTopics: loku.importance has 3 partitions; the catalogue says 6"),
                DeployChecker.check(changed, code));
    }

    @Test
    void anExtraOrMissingTopicIsReported() {
        DeployFiles changed = files.copy();
        Map<String, Object> audit = kafkaTopic(changed, "loku.audit");
        map(audit.get("metadata")).put("name", "loku.audits");
        map(audit.get("spec")).put("topicName", "loku.audits");

        assertEquals(List.of(
                        "deploy/k8s/topics.yaml: KafkaTopics: loku.audit is missing (it is in the catalogue, dev.loku.schemas.Topics)",
                        "deploy/k8s/topics.yaml: KafkaTopics: loku.audits is not in the catalogue (dev.loku.schemas.Topics.ALL)"),
                DeployChecker.check(changed, code));
    }

    @Test
    void aTopicChangedInTheCodeButNotInTheManifestsIsReported() {
        List<TopicSpec> topics = new ArrayList<>();
        for (TopicSpec t : code.topics()) {
            topics.add(t.name().equals("loku.erasure-requests")
                    ? new TopicSpec(t.name(), t.partitions(), 3 * 24 * 3600_000L, t.cleanupPolicy()) : t);
        }
        topics.add(new TopicSpec("loku.reports", 6, 86_400_000L, "delete"));

        assertEquals(List.of(
                        "deploy/compose.yaml: service topics (TOPICS): loku.erasure-requests has retention.ms 604800000; the catalogue says 259200000",
                        "deploy/compose.yaml: service topics (TOPICS): loku.reports is missing (it is in the catalogue, dev.loku.schemas.Topics)",
                        "deploy/k8s/topics.yaml: KafkaTopics: loku.erasure-requests has retention.ms 604800000; the catalogue says 259200000",
                        "deploy/k8s/topics.yaml: KafkaTopics: loku.reports is missing (it is in the catalogue, dev.loku.schemas.Topics)"),
                DeployChecker.check(files, code.withTopics(topics)));
    }

    @Test
    void aCleanupPolicyChangedInComposeIsReported() {
        DeployFiles changed = files.copy();
        Map<String, Object> topicsService = map(map(changed.compose.get("services")).get("topics"));
        Map<String, Object> env = map(topicsService.get("environment"));
        env.put("TOPICS", String.valueOf(env.get("TOPICS")).replace("loku.model-versions 6 -1 compact",
                "loku.model-versions 6 -1 delete"));

        assertEquals(List.of("deploy/compose.yaml: service topics (TOPICS): loku.model-versions has cleanup.policy delete; "
                + "the catalogue says compact"), DeployChecker.check(changed, code));
    }

    // ------------------------------------------------------------------------------------------------ environment

    private static Map<String, Object> configMapData(DeployFiles f, String name) {
        return map(f.k8s.stream().filter(d -> d.kind().equals("ConfigMap") && d.name().equals(name)).findFirst()
                .orElseThrow().doc().get("data"));
    }

    @Test
    void anUnknownVariableIsReportedWithTheFieldItResembles() {
        DeployFiles changed = files.copy();
        map(map(map(changed.compose.get("services")).get("worker")).get("environment")).put("LOKU_WORKER_SEEDS", "7");

        assertEquals(List.of("deploy/compose.yaml: service worker environment: LOKU_WORKER_SEEDS is not a configuration "
                + "field of the worker service; did you mean LOKU_WORKER_SEED?"), DeployChecker.check(changed, code));
    }

    @Test
    void anotherServicesFieldInAConfigMapIsReported() {
        DeployFiles changed = files.copy();
        configMapData(changed, "loku-worker").put("LOKU_INGEST_BATCH_MAX_WAIT", "5m");

        assertEquals(List.of("deploy/k8s/config.yaml: ConfigMap loku-worker: LOKU_INGEST_BATCH_MAX_WAIT is not a "
                + "configuration field of the worker service (it is the ingest service's)"), DeployChecker.check(changed, code));
    }

    @Test
    void aValueTheServiceWouldRefuseIsReported() {
        DeployFiles changed = files.copy();
        configMapData(changed, "loku-worker").put("LOKU_WORKER_MAX_EPOCHS_CAP", "0");

        assertEquals(List.of("deploy/k8s/worker.yaml: Deployment loku-worker: the worker service would refuse its "
                        + "configuration: worker.max.epochs.cap = '0' (environment LOKU_WORKER_MAX_EPOCHS_CAP): not allowed; "
                        + "allowed: between 1 and 100000"),
                DeployChecker.check(changed, code));
    }

    @Test
    void anUnquotedNumberInAConfigMapIsReported() {
        DeployFiles changed = files.copy();
        configMapData(changed, "loku-ingest").put("LOKU_INGEST_BATCH_MAX_REQUESTS", 16);

        assertEquals(List.of("deploy/k8s/config.yaml: ConfigMap loku-ingest: data.LOKU_INGEST_BATCH_MAX_REQUESTS is 16 "
                + "(a YAML Integer); ConfigMap values must be strings: quote it"), DeployChecker.check(changed, code));
    }

    // ------------------------------------------------------------------------------------------------ scaling

    private static Map<String, Object> scaledObjectSpec(DeployFiles f) {
        return map(f.k8s.stream().filter(d -> d.kind().equals("ScaledObject")).findFirst().orElseThrow().doc().get("spec"));
    }

    @Test
    void workersBeyondThePartitionsOfTheirTopicAreReported() {
        DeployFiles changed = files.copy();
        scaledObjectSpec(changed).put("maxReplicaCount", 7);

        assertEquals(List.of("deploy/k8s/worker.yaml: ScaledObject loku-worker: maxReplicaCount 7 exceeds the 6 "
                + "partitions of loku.importance: the extra workers would get no partition"), DeployChecker.check(changed, code));
    }

    @Test
    void fewerPartitionsInTheCodeMakeTheSameScalingWrong() {
        List<TopicSpec> topics = code.topics().stream()
                .map(t -> t.name().equals("loku.importance") ? new TopicSpec(t.name(), 4, t.retentionMs(), t.cleanupPolicy()) : t)
                .toList();

        List<String> problems = DeployChecker.check(files, code.withTopics(topics));

        assertTrue(problems.contains("deploy/k8s/worker.yaml: ScaledObject loku-worker: maxReplicaCount 6 exceeds the 4 "
                + "partitions of loku.importance: the extra workers would get no partition"), () -> report(problems));
    }

    @Test
    void aTriggerOnTheWrongConsumerGroupIsReported() {
        DeployFiles changed = files.copy();
        map(map(list(scaledObjectSpec(changed).get("triggers")).get(0)).get("metadata")).put("consumerGroup", "loku-workers");

        assertEquals(List.of("deploy/k8s/worker.yaml: ScaledObject loku-worker: kafka trigger watches consumer group "
                + "loku-workers; the worker's group is loku-worker"), DeployChecker.check(changed, code));
    }

    // ------------------------------------------------------------------------------------------------ endpoints

    private static Map<String, Object> container(DeployFiles f, String deployment) {
        Map<String, Object> dep = f.k8s.stream().filter(d -> d.kind().equals("Deployment") && d.name().equals(deployment))
                .findFirst().orElseThrow().doc();
        return map(list(map(map(map(dep.get("spec")).get("template")).get("spec")).get("containers")).get(0));
    }

    private static Map<String, Object> podAnnotations(DeployFiles f, String deployment) {
        Map<String, Object> dep = f.k8s.stream().filter(d -> d.kind().equals("Deployment") && d.name().equals(deployment))
                .findFirst().orElseThrow().doc();
        return map(map(map(map(dep.get("spec")).get("template")).get("metadata")).get("annotations"));
    }

    @Test
    void probesAndScrapeAnnotationsMustPointAtTheServiceEndpoints() {
        DeployFiles changed = files.copy();
        map(map(container(changed, "loku-eval").get("livenessProbe")).get("httpGet")).put("path", "/healthz");
        podAnnotations(changed, "loku-fisher").put("prometheus.io/path", "/metric");

        assertEquals(List.of(
                        "deploy/k8s/fisher.yaml: Deployment loku-fisher: pod annotation prometheus.io/path is /metric, not /metrics",
                        "deploy/k8s/eval.yaml: Deployment loku-eval: livenessProbe calls /healthz, not /health"),
                DeployChecker.check(changed, code));
    }

    @Test
    void aPortChangedInTheConfigurationButNotInTheChecksIsReported() {
        DeployFiles changed = files.copy();
        map(map(map(changed.compose.get("services")).get("ingest")).get("environment")).put("LOKU_HTTP_PORT", "9090");

        assertEquals(List.of(
                        "deploy/compose.yaml: service ingest healthcheck: calls port 8080, but the service listens on 9090 (http.port)",
                        "deploy/compose.yaml: service ingest: publishes container port 8080, but the service listens on 9090 (http.port)"),
                DeployChecker.check(changed, code));
    }

    @Test
    void aCatalogueFileMissingOnTheHostIsReported() {
        DeployFiles changed = files.copy();
        List<Object> volumes = list(map(map(changed.compose.get("services")).get("eval")).get("volumes"));
        volumes.replaceAll(v -> String.valueOf(v).replace("../data:", "../datasets:"));

        List<String> problems = DeployChecker.check(changed, code);

        assertEquals(1, problems.size(), () -> report(problems));
        assertTrue(problems.get(0).startsWith("deploy/compose.yaml: service eval: model stories260k retainData "
                + "/opt/loku/data/stories/stories.jsonl would be "), problems.get(0));
        assertTrue(problems.get(0).endsWith("datasets/stories/stories.jsonl on the host, which does not exist"),
                problems.get(0));
    }

    // ------------------------------------------------------------------------------------------------ images

    @Test
    void aDockerfileHealthcheckOnAnotherPortIsReported() {
        DeployFiles changed = files.copy();
        editImageInstructions(changed, "ingest.Dockerfile", "HEALTHCHECK", args -> args.replace(":-8080}", ":-8081}"));

        assertEquals(List.of("deploy/docker/ingest.Dockerfile: HEALTHCHECK calls port ${LOKU_HTTP_PORT:-8081}; expected "
                + "${LOKU_HTTP_PORT:-8080} (the configured http.port, default 8080)"), DeployChecker.check(changed, code));
    }

    @Test
    void anEngineImageThatLetsGlibcUnmapTensorsIsReported() {
        DeployFiles changed = files.copy();
        editImageInstructions(changed, "worker.Dockerfile", "ENV",
                args -> args.replace("MALLOC_MMAP_MAX_=0", "MALLOC_MMAP_MAX_=65536"));

        assertEquals(List.of("deploy/docker/worker.Dockerfile: an engine image without ENV MALLOC_ARENA_MAX=1"
                + " MALLOC_MMAP_MAX_=0 (glibc would unmap freed tensors and fault them in again at every step;"
                + " docs/performance.md)"), DeployChecker.check(changed, code));
    }

    /** Rewrites the arguments of every {@code keyword} instruction in the image (last) stage of {@code file}. */
    private static void editImageInstructions(DeployFiles changed, String file, String keyword,
                                              java.util.function.UnaryOperator<String> edit) {
        List<Dockerfile.Stage> stages = new ArrayList<>(changed.dockerfiles.get(file).stages());
        Dockerfile.Stage image = stages.remove(stages.size() - 1);
        List<Dockerfile.Instruction> instructions = image.instructions().stream()
                .map(i -> i.keyword().equals(keyword) ? new Dockerfile.Instruction(keyword, edit.apply(i.args())) : i)
                .toList();
        stages.add(new Dockerfile.Stage(image.image(), image.alias(), instructions));
        changed.dockerfiles.put(file, new Dockerfile(file, stages));
    }

    @Test
    void aCudaFlavorWithoutJniGlueIsReported() {
        DeployFiles changed = files.copy();
        String text = "FROM maven:3.9-eclipse-temurin-17 AS build\n"
                + "RUN mvn -B -Pcuda -pl unlearn-worker -am package -DskipTests\n"
                + "FROM eclipse-temurin:17-jre AS jre\n"
                + "FROM pytorch/pytorch:2.7.1-cuda12.4-cudnn9-runtime\n"
                + "COPY --from=jre /opt/java/openjdk /opt/java/openjdk\n"
                + "ENV PYTORCH_LIBRARY_PATH=/opt/torch/lib PYTORCH_VERSION=2.7.1 PYTORCH_FLAVOR=cu124 DJL_OFFLINE=true\n"
                + "COPY --from=build /src/unlearn-worker/target/lib/ /opt/loku/lib/\n"
                + "COPY --from=build /src/unlearn-worker/target/unlearn-worker.jar /opt/loku/unlearn-worker.jar\n"
                + "USER 10001\nEXPOSE 8080\n"
                + "HEALTHCHECK CMD curl -fsS http://localhost:${LOKU_HTTP_PORT:-8080}/health\n"
                + "ENTRYPOINT [\"java\", \"-jar\", \"/opt/loku/unlearn-worker.jar\"]\n";
        changed.dockerfiles.put("worker-cuda.Dockerfile", Dockerfile.parse("worker-cuda.Dockerfile", text));

        assertEquals(List.of("deploy/docker/worker-cuda.Dockerfile: PYTORCH_FLAVOR=cu124, but pytorch-jni has no "
                + "jnilib/linux-x86_64/cu124/libdjl_torch.so"), DeployChecker.check(changed, code));
    }

    // ------------------------------------------------------------------------------------------------ alerts

    @Test
    void alertRulesMayOnlyUseWhatTheServicesExpose() {
        DeployChecker.class.getName(); // the checks below go through check(), like the real rules
        DeployFiles changed = files.copy();
        Map<String, Object> rules = changed.k8s.stream().filter(d -> d.kind().equals("PrometheusRule")).findFirst()
                .orElseThrow().doc();
        List<Object> groups = list(map(rules.get("spec")).get("groups"));
        List<Object> added = new ArrayList<>(List.of(
                Map.of("alert", "Invented", "expr", "rate(loku_jobs_failed_total[5m]) > 0",
                        "labels", Map.of("severity", "info"), "annotations", Map.of("summary", "x")),
                Map.of("alert", "WrongLabel", "expr", "sum by (stage) (loku_requests_total{stage=\"PURGE\"}) > 0",
                        "labels", Map.of("severity", "info"), "annotations", Map.of("summary", "x")),
                Map.of("alert", "WrongStatus", "expr", "increase(loku_requests_total{status=~\"FAILED|DONE\"}[1h]) > 0",
                        "labels", Map.of("severity", "info"), "annotations", Map.of("summary", "x"))));
        groups.add(new java.util.LinkedHashMap<>(Map.of("name", "mutations", "rules", added)));

        List<String> problems = DeployChecker.check(changed, code);

        String at = "deploy/k8s/prometheus-rules.yaml: PrometheusRule loku alert ";
        assertEquals(List.of(
                at + "Invented: uses loku_jobs_failed_total, which the services do not expose (they expose "
                        + code.metricLabels().keySet() + ")",
                at + "WrongLabel: loku_requests_total has no label stage (its labels: [service, status])",
                at + "WrongLabel: groups by stage, a label none of its metrics has",
                at + "WrongStatus: status \"DONE\" is no audit status (dev.loku.events.AuditStatus: "
                        + code.auditStatuses() + ")"),
                problems);
    }
}
