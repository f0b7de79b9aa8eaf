package dev.loku.deploy;

import dev.loku.deploy.CodeFacts.ServiceSpec;
import dev.loku.deploy.CodeFacts.TopicSpec;
import dev.loku.deploy.DeployFiles.K8sDoc;
import dev.loku.runtime.catalogue.CatalogueModel;
import dev.loku.runtime.catalogue.InvalidCatalogueException;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.InvalidConfigException;
import dev.loku.runtime.config.LokuConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.NodeList;

/**
 * Compares {@code deploy/} with the code and lists every disagreement as a sentence that names the file, the
 * resource and both values. Nothing here knows a topic, a field or a metric by heart: {@link CodeFacts} reads them
 * from the code, so a change on either side without the other is reported.
 *
 * <ul>
 *   <li>Topics: the compose topics service and the Strimzi KafkaTopics create exactly the catalogue's topics, each
 *       with its partitions, retention.ms and cleanup.policy.</li>
 *   <li>Configuration: every LOKU_* variable (Dockerfile ENV, compose environment, ConfigMaps, container env) is a
 *       field of the service that receives it, and each service's values pass its own validation.</li>
 *   <li>Endpoints: compose health checks, Dockerfile HEALTHCHECK/EXPOSE, probes and Prometheus annotations point at
 *       /health and /metrics on the port the service's configuration gives.</li>
 *   <li>Scaling: the GPU worker scales on the lag of its own consumer group on its input topic, never past that
 *       topic's partitions; fixed replica counts stay within their inputs' partitions.</li>
 *   <li>Images: each Dockerfile builds and runs the service's jar on Java 17, as a non-root user, offline DJL; the
 *       CUDA image names a libtorch and flavor the JNI glue supports.</li>
 *   <li>Alerts: rules use only metric names, labels and audit statuses the services expose.</li>
 * </ul>
 */
final class DeployChecker {

    private static final String HEALTH = "/health";
    private static final String METRICS = "/metrics";
    private static final Pattern LOCAL_URL = Pattern.compile("https?://(?:localhost|127\\.0\\.0\\.1)(?::(\\d+))?(/[^\\s\"']*)?");
    private static final Pattern LOKU_IMAGE = Pattern.compile("loku/([a-z0-9-]+)(?::\\S+)?");

    private final DeployFiles files;
    private final CodeFacts code;
    private final List<String> problems = new ArrayList<>();
    /** Each service's configuration as its Deployment gives it (when valid), for the ScaledObject checks. */
    private final Map<String, LokuConfig> k8sConfigs = new TreeMap<>();

    private DeployChecker(DeployFiles files, CodeFacts code) {
        this.files = files;
        this.code = code;
    }

    /** Every problem of {@code deploy/}: Dockerfiles, compose, Kubernetes, alert rules. */
    static List<String> check(DeployFiles files, CodeFacts code) {
        DeployChecker c = new DeployChecker(files, code);
        c.checkDockerfiles();
        c.checkCompose();
        c.checkKubernetes();
        c.checkAlertRules();
        return List.copyOf(c.problems);
    }

    /** The compose checks alone (for a compose model rendered by a compose implementation). */
    static List<String> checkCompose(DeployFiles files, CodeFacts code) {
        DeployChecker c = new DeployChecker(files, code);
        c.checkCompose();
        return List.copyOf(c.problems);
    }

    private void problem(String where, String what) {
        problems.add(where + ": " + what);
    }

    // ---------------------------------------------------------------------------------------------- Dockerfiles

    private void checkDockerfiles() {
        if (files.dockerfiles.isEmpty()) {
            problem("deploy/docker", "no *.Dockerfile");
        }
        Set<String> modules = new TreeSet<>();
        for (Dockerfile d : files.dockerfiles.values()) {
            serviceOf(d).ifPresent(s -> modules.add(s.module()));
            checkDockerfile(d);
        }
        for (ServiceSpec s : code.services()) {
            if (!modules.contains(s.module())) {
                problem("deploy/docker", "no Dockerfile runs " + s.module() + ".jar (the " + s.name() + " service)");
            }
        }
    }

    /** The service whose jar the Dockerfile's ENTRYPOINT runs. */
    private Optional<ServiceSpec> serviceOf(Dockerfile d) {
        return entrypointJar(d).flatMap(jar -> code.serviceByModule(moduleOfJar(jar)));
    }

    private static Optional<String> entrypointJar(Dockerfile d) {
        return d.entrypoint().flatMap(args -> {
            int i = args.indexOf("-jar");
            return i >= 0 && i + 1 < args.size() ? Optional.of(args.get(i + 1)) : Optional.empty();
        });
    }

    private static String moduleOfJar(String jarPath) {
        String file = jarPath.substring(jarPath.lastIndexOf('/') + 1);
        return file.endsWith(".jar") ? file.substring(0, file.length() - 4) : file;
    }

    private void checkDockerfile(Dockerfile d) {
        String where = "deploy/docker/" + d.name();
        Optional<List<String>> entry = d.entrypoint();
        if (entry.isEmpty() || entry.get().isEmpty()) {
            problem(where, "the image needs an ENTRYPOINT in exec form ([\"java\", \"-jar\", \"/opt/loku/<module>.jar\"]) "
                    + "so that java runs as PID 1 and receives SIGTERM");
            return;
        }
        Optional<String> jar = entrypointJar(d);
        if (!entry.get().get(0).equals("java") || jar.isEmpty()) {
            problem(where, "ENTRYPOINT " + entry.get() + " does not run java -jar <service jar>");
            return;
        }
        String module = moduleOfJar(jar.get());
        Optional<ServiceSpec> spec = code.serviceByModule(module);
        if (spec.isEmpty()) {
            problem(where, "ENTRYPOINT runs " + jar.get() + ", which is no service's jar (they are "
                    + code.services().stream().map(s -> s.module() + ".jar").collect(Collectors.joining(", ")) + ")");
            return;
        }
        ServiceSpec s = spec.get();
        String declared = declaredMainClass(module);
        if (!s.mainClass().equals(declared)) {
            problem(where, "ENTRYPOINT runs " + module + ".jar, whose manifest main class (" + module + "/pom.xml) is "
                    + declared + ", not " + s.mainClass());
        }

        Dockerfile.Stage build = d.stages().get(0);
        if (!build.image().startsWith("maven:") || !build.image().contains("17")) {
            problem(where, "the first stage builds with " + build.image() + "; expected a Maven image on JDK 17 "
                    + "(maven:3.9-eclipse-temurin-17)");
        }
        String runs = d.stages().subList(0, d.stages().size() - 1).stream()
                .flatMap(st -> st.args("RUN").stream()).collect(Collectors.joining(" "));
        for (String needed : List.of("mvn ", "-pl " + module, "-am", "package")) {
            if (!runs.contains(needed)) {
                problem(where, "the build stage's Maven run lacks '" + needed.strip() + "' (expected mvn ... -pl "
                        + module + " -am package ...)");
            }
        }

        Dockerfile.Stage image = d.image();
        String jarDir = jar.get().substring(0, jar.get().lastIndexOf('/') + 1);
        List<String> copies = image.args("COPY");
        if (copies.stream().noneMatch(c -> c.contains("/" + module + "/target/" + module + ".jar")
                && (c.endsWith(" " + jar.get()) || c.endsWith(" " + jarDir)))) {
            problem(where, "no COPY puts " + module + "/target/" + module + ".jar at " + jar.get());
        }
        if (copies.stream().noneMatch(c -> c.contains("/" + module + "/target/lib") && c.endsWith(" " + jarDir + "lib/"))) {
            problem(where, "no COPY puts " + module + "/target/lib/ at " + jarDir + "lib/, where the jar's manifest "
                    + "Class-Path (lib/...) looks for its dependencies");
        }
        boolean jre17 = isJre17(image.image()) || copies.stream().anyMatch(c -> {
            Matcher m = Pattern.compile("--from=(\\S+)\\s+/opt/java/openjdk\\b").matcher(c);
            return m.find() && d.stage(m.group(1)).map(st -> isJre17(st.image())).orElse(false);
        });
        if (!jre17) {
            problem(where, "the image (" + image.image() + ") has no Java 17 runtime: start FROM eclipse-temurin:17-jre "
                    + "or COPY /opt/java/openjdk from such a stage");
        }
        List<String> users = image.args("USER");
        String user = users.isEmpty() ? "root" : users.get(users.size() - 1).split(":")[0];
        if (user.equals("root") || user.equals("0")) {
            problem(where, "the image runs as root; add USER with a non-root uid");
        }
        Map<String, String> env = image.env();
        if (!"true".equals(env.get("DJL_OFFLINE"))) {
            problem(where, "ENV DJL_OFFLINE=true is missing (DJL would try to reach its telemetry endpoint)");
        }
        if (env.containsKey("DJL_CACHE_DIR")
                && !("1".equals(env.get("MALLOC_ARENA_MAX")) && "0".equals(env.get("MALLOC_MMAP_MAX_")))) {
            problem(where, "an engine image without ENV MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 (glibc would unmap freed"
                    + " tensors and fault them in again at every step; docs/performance.md)");
        }
        checkEnvNames(where + " ENV", s, env);

        String port = Integer.toString(CodeFacts.defaultHttpPort());
        List<String> exposed = image.args("EXPOSE").stream().flatMap(a -> List.of(a.split("\\s+")).stream())
                .map(p -> p.replace("/tcp", "")).toList();
        if (!exposed.contains(port)) {
            problem(where, "EXPOSE " + exposed + " does not include " + port + ", the default of "
                    + CodeFacts.httpPortField().name() + " (the /health and /metrics port)");
        }
        List<String> health = image.args("HEALTHCHECK");
        if (health.isEmpty()) {
            problem(where, "no HEALTHCHECK");
        } else {
            String cmd = health.get(health.size() - 1);
            String portExpr = "${" + CodeFacts.httpPortField().envVar() + ":-" + port + "}";
            Matcher url = Pattern.compile("https?://localhost:(\\S+?)(/[^\\s\"']*)").matcher(cmd);
            if (!cmd.contains("CMD") || !url.find()) {
                problem(where, "HEALTHCHECK " + cmd + " calls no http://localhost:<port>/health");
            } else {
                if (!url.group(1).equals(portExpr) && !url.group(1).equals(port)) {
                    problem(where, "HEALTHCHECK calls port " + url.group(1) + "; expected " + portExpr
                            + " (the configured http.port, default " + port + ")");
                }
                if (!url.group(2).equals(HEALTH)) {
                    problem(where, "HEALTHCHECK calls " + url.group(2) + ", not " + HEALTH);
                }
            }
        }

        if (env.containsKey("PYTORCH_LIBRARY_PATH")) {
            checkCudaImage(where, d, env, runs);
        } else if (runs.contains("-Pcuda")) {
            problem(where, "built with -Pcuda (no bundled libtorch) but sets no PYTORCH_LIBRARY_PATH");
        }
    }

    /** An image bringing its own libtorch: DJL must be told where, which version and which JNI flavor. */
    private void checkCudaImage(String where, Dockerfile d, Map<String, String> env, String runs) {
        String flavor = env.get("PYTORCH_FLAVOR");
        String version = env.get("PYTORCH_VERSION");
        String jniVersion = CodeFacts.jniLibtorchVersion();
        if (flavor == null) {
            problem(where, "PYTORCH_FLAVOR is not set: DJL would guess cu<version>-precxx11, for which pytorch-jni has no "
                    + "library");
        } else if (!CodeFacts.jniHasFlavor(flavor)) {
            problem(where, "PYTORCH_FLAVOR=" + flavor + ", but pytorch-jni has no jnilib/linux-x86_64/" + flavor
                    + "/libdjl_torch.so");
        }
        if (!jniVersion.equals(version)) {
            problem(where, "PYTORCH_VERSION=" + version + ", but pytorch-jni is built for libtorch " + jniVersion);
        }
        String pomVersion = files.pomProperties.get("libtorch.version");
        if (!Objects.equals(pomVersion, version)) {
            problem(where, "PYTORCH_VERSION=" + version + ", but the build's libtorch.version is " + pomVersion);
        }
        if (!runs.contains("-Pcuda")) {
            problem(where, "sets PYTORCH_LIBRARY_PATH but does not build with -Pcuda, so the CPU libtorch jar stays on "
                    + "the class path");
        }
        if (flavor != null && flavor.matches("cu\\d{3}")) {
            String cuda = flavor.substring(2, 4) + "." + flavor.substring(4);
            String expected = "pytorch/pytorch:" + version + "-cuda" + cuda;
            if (!d.image().image().startsWith(expected)) {
                problem(where, "the runtime image is " + d.image().image() + "; PYTORCH_VERSION and PYTORCH_FLAVOR "
                        + "call for " + expected + "-*");
            }
        }
    }

    private static boolean isJre17(String image) {
        return image.matches("eclipse-temurin:17[.\\d]*-jre.*");
    }

    /** The {@code <mainClass>} the module's POM gives its jar manifest. */
    private String declaredMainClass(String module) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            NodeList n = f.newDocumentBuilder().parse(files.root.resolve(module).resolve("pom.xml").toFile())
                    .getElementsByTagName("mainClass");
            return n.getLength() == 0 ? "(none)" : n.item(0).getTextContent().strip();
        } catch (Exception e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    // ---------------------------------------------------------------------------------------------- environment

    /** Reports LOKU_* names from {@code source} that the service does not read. */
    private void checkEnvNames(String where, ServiceSpec s, Map<String, String> env) {
        Set<String> known = s.knownEnv();
        for (String name : env.keySet()) {
            if (name.startsWith(ConfigField.ENV_PREFIX) && !known.contains(name)) {
                problem(where, name + " is not a configuration field of the " + s.name() + " service" + hint(name, s));
            }
        }
    }

    private String hint(String name, ServiceSpec s) {
        for (ServiceSpec other : code.services()) {
            if (other != s && other.knownEnv().contains(name)) {
                return " (it is the " + other.name() + " service's)";
            }
        }
        return s.knownEnv().stream().min(Comparator.comparingInt(k -> editDistance(k, name)))
                .filter(k -> editDistance(k, name) <= 3).map(k -> "; did you mean " + k + "?").orElse("");
    }

    /** An environment as the service would see it: names checked per source, then the merged values validated. */
    private LokuConfig environment(String where, ServiceSpec s, Map<String, Map<String, String>> sources) {
        Map<String, String> merged = new LinkedHashMap<>();
        sources.forEach((src, vars) -> {
            checkEnvNames(src, s, vars);
            merged.putAll(vars);
        });
        try {
            return LokuConfig.load(null, merged, s.groups());
        } catch (InvalidConfigException e) {
            e.problems().forEach(p -> problem(where, "the " + s.name() + " service would refuse its configuration: " + p));
            return null;
        }
    }

    // ---------------------------------------------------------------------------------------------- compose

    private void checkCompose() {
        String where = files.composeLabel;
        Map<String, Object> services = map(files.compose.get("services"));
        String kafka = null;
        String registry = null;
        String topics = null;
        for (Map.Entry<String, Object> e : services.entrySet()) {
            Map<String, Object> svc = map(e.getValue());
            String image = str(svc.get("image"));
            Map<String, String> env = composeEnv(svc);
            if (image != null && image.startsWith("apache/kafka:") && env.containsKey("KAFKA_PROCESS_ROLES")) {
                kafka = e.getKey();
                expectTag(where + ": service " + kafka, image, "kafka.version");
            } else if (image != null && image.startsWith("apicurio/apicurio-registry:")) {
                registry = e.getKey();
                expectTag(where + ": service " + registry, image, "apicurio.registry.version");
                if (!code.compatibility().equals(env.get("APICURIO_RULES_GLOBAL_COMPATIBILITY"))) {
                    problem(where, "service " + registry + " sets APICURIO_RULES_GLOBAL_COMPATIBILITY="
                            + env.get("APICURIO_RULES_GLOBAL_COMPATIBILITY") + "; the project's rule is "
                            + code.compatibility());
                }
            }
            if (env.containsKey("TOPICS")) {
                topics = e.getKey();
                checkComposeTopics(where + ": service " + topics + " (TOPICS)", env.get("TOPICS"));
            }
        }
        if (kafka == null) {
            problem(where, "no Kafka service (image apache/kafka with KAFKA_PROCESS_ROLES)");
        }
        if (registry == null) {
            problem(where, "no registry service (image apicurio/apicurio-registry)");
        }
        if (topics == null) {
            problem(where, "no topic-creation service (a service with a TOPICS variable)");
        }
        String artifactsVolume = null;
        for (ServiceSpec s : code.services()) {
            Map<String, Object> svc = map(services.get(s.name()));
            String at = where + ": service " + s.name();
            if (svc.isEmpty()) {
                problem(where, "no service " + s.name());
                continue;
            }
            Optional<Dockerfile> dockerfile = imageDockerfile(at, str(svc.get("image")), s);
            String builtFrom = str(map(svc.get("build")).get("dockerfile"));
            if (builtFrom != null && dockerfile.isPresent() && !builtFrom.endsWith("deploy/docker/" + dockerfile.get().name())) {
                problem(at, "builds " + builtFrom + " but is tagged " + svc.get("image") + " (deploy/docker/"
                        + dockerfile.get().name() + ")");
            }
            Map<String, Map<String, String>> sources = new LinkedHashMap<>();
            dockerfile.ifPresent(d -> sources.put("deploy/docker/" + d.name() + " ENV", d.image().env()));
            sources.put(at + " environment", composeEnv(svc));
            LokuConfig config = environment(at, s, sources);
            if (config == null) {
                continue;
            }
            CommonConfig common = CommonConfig.from(config);
            int port = common.httpPort();
            checkComposeHealth(at, svc, port);
            for (Object p : list(svc.get("ports"))) {
                int target = p instanceof Map<?, ?> m ? Integer.parseInt(str(m.get("target")))
                        : Integer.parseInt(lastPart(str(p).replace("/tcp", "")));
                if (target != port) {
                    problem(at, "publishes container port " + target + ", but the service listens on " + port
                            + " (http.port)");
                }
            }
            Map<String, Object> deps = dependsOn(svc);
            expectDependency(at, deps, kafka, "service_healthy");
            expectDependency(at, deps, registry, "service_healthy");
            expectDependency(at, deps, topics, "service_completed_successfully");
            if (kafka != null) {
                String advertised = composeEnv(map(services.get(kafka))).getOrDefault("KAFKA_ADVERTISED_LISTENERS", "");
                for (String server : common.bootstrapServers()) {
                    if (!advertised.contains("//" + server)) {
                        problem(at, "bootstrap server " + server + " is not a listener that service " + kafka
                                + " advertises (" + advertised + ")");
                    }
                }
            }
            if (registry != null && !registry.equals(common.registryUrl().getHost())) {
                problem(at, "registry.url " + common.registryUrl() + " does not point at service " + registry);
            }
            List<Mount> mounts = list(svc.get("volumes")).stream().map(DeployChecker::composeMount).toList();
            Optional<Mount> artifacts = mountAt(mounts, common.artifactsRoot().toString())
                    .filter(m -> m.target().equals(common.artifactsRoot().toString()));
            if (artifacts.isEmpty() || !artifacts.get().named() || artifacts.get().readOnly()) {
                problem(at, "artifacts.root " + common.artifactsRoot() + " must be a writable named volume shared by "
                        + "all services, is " + artifacts.map(Mount::toString).orElse("not mounted"));
            } else if (artifactsVolume == null) {
                artifactsVolume = artifacts.get().source();
            } else if (!artifactsVolume.equals(artifacts.get().source())) {
                problem(at, "mounts volume " + artifacts.get().source() + " as the artifact store; the other services "
                        + "mount " + artifactsVolume);
            }
            checkComposeCatalogue(at, s, common.modelsCatalogue(), mounts);
        }
    }

    private void expectTag(String where, String image, String property) {
        String tag = image.substring(image.lastIndexOf(':') + 1);
        String version = files.pomProperties.get(property);
        if (!tag.equals(version)) {
            problem(where, "runs " + image + ", but the build tests against " + property + " " + version);
        }
    }

    private void checkComposeTopics(String where, String text) {
        Map<String, TopicSpec> declared = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.strip().split("\\s+");
            if (f.length != 4) {
                problem(where, "line '" + line.strip() + "' is not: name partitions retention.ms cleanup.policy");
                continue;
            }
            try {
                TopicSpec t = new TopicSpec(f[0], Integer.parseInt(f[1]), Long.parseLong(f[2]), f[3]);
                if (declared.put(t.name(), t) != null) {
                    problem(where, t.name() + " is listed twice");
                }
            } catch (NumberFormatException e) {
                problem(where, "line '" + line.strip() + "': partitions and retention.ms must be whole numbers");
            }
        }
        compareTopics(where, declared);
    }

    /** The declared topics against the catalogue: missing, extra, and each of the three settings. */
    private void compareTopics(String where, Map<String, TopicSpec> declared) {
        for (TopicSpec t : code.topics()) {
            TopicSpec d = declared.get(t.name());
            if (d == null) {
                problem(where, t.name() + " is missing (it is in the catalogue, dev.loku.schemas.Topics)");
                continue;
            }
            if (d.partitions() != t.partitions()) {
                problem(where, t.name() + " has " + d.partitions() + " partitions; the catalogue says " + t.partitions());
            }
            if (d.retentionMs() != t.retentionMs()) {
                problem(where, t.name() + " has retention.ms " + d.retentionMs() + "; the catalogue says " + t.retentionMs());
            }
            if (!Objects.equals(d.cleanupPolicy(), t.cleanupPolicy())) {
                problem(where, t.name() + " has cleanup.policy " + d.cleanupPolicy() + "; the catalogue says "
                        + t.cleanupPolicy());
            }
        }
        for (String name : declared.keySet()) {
            if (code.topic(name).isEmpty()) {
                problem(where, name + " is not in the catalogue (dev.loku.schemas.Topics.ALL)");
            }
        }
    }

    private void checkComposeHealth(String where, Map<String, Object> svc, int port) {
        Object test = map(svc.get("healthcheck")).get("test");
        if (test == null) {
            return; // the image's HEALTHCHECK applies; checked with the Dockerfile
        }
        String cmd = test instanceof List<?> l ? l.stream().map(String::valueOf).collect(Collectors.joining(" "))
                : String.valueOf(test);
        checkUrl(where + " healthcheck", cmd, port, HEALTH);
    }

    private void checkUrl(String where, String cmd, int port, String path) {
        Matcher url = LOCAL_URL.matcher(cmd);
        if (!url.find()) {
            problem(where, "calls no http://localhost:<port>" + path + " (" + cmd + ")");
            return;
        }
        int called = url.group(1) == null ? 80 : Integer.parseInt(url.group(1));
        if (called != port) {
            problem(where, "calls port " + called + ", but the service listens on " + port + " (http.port)");
        }
        if (!path.equals(url.group(2))) {
            problem(where, "calls " + url.group(2) + ", not " + path);
        }
    }

    private static Map<String, Object> dependsOn(Map<String, Object> svc) {
        Object deps = svc.get("depends_on");
        Map<String, Object> out = new LinkedHashMap<>();
        if (deps instanceof List<?> l) {
            l.forEach(d -> out.put(String.valueOf(d), Map.of("condition", "service_started")));
        } else {
            out.putAll(map(deps));
        }
        return out;
    }

    private void expectDependency(String where, Map<String, Object> deps, String on, String condition) {
        if (on == null) {
            return;
        }
        String actual = str(map(deps.get(on)).get("condition"));
        if (!condition.equals(actual)) {
            problem(where, "must wait for " + on + " (depends_on condition " + condition + "), has "
                    + (actual == null ? "no dependency" : actual));
        }
    }

    /** The catalogue file and, for services that read them, the model and data files it names, through the mounts. */
    private void checkComposeCatalogue(String where, ServiceSpec s, Path catalogue, List<Mount> mounts) {
        Optional<Path> host = hostFile(where, "models.catalogue", catalogue, mounts);
        if (host.isEmpty()) {
            return;
        }
        ModelCatalogue loaded;
        try {
            loaded = ModelCatalogue.load(host.get());
        } catch (InvalidCatalogueException e) {
            problem(where, e.getMessage());
            return;
        }
        if (!s.modelFiles()) {
            return;
        }
        for (CatalogueModel m : loaded.models()) {
            hostFile(where, "model " + m.id() + " baseCheckpoint", m.baseCheckpoint(), mounts);
            hostFile(where, "model " + m.id() + " retainData", m.retainData(), mounts);
            hostFile(where, "model " + m.id() + " unseenData", m.unseenData(), mounts);
        }
    }

    /** Where a container path lies on the host, through a read-only bind mount, if it exists there. */
    private Optional<Path> hostFile(String where, String what, Path inContainer, List<Mount> mounts) {
        Optional<Mount> mount = mountAt(mounts, inContainer.toString());
        if (mount.isEmpty() || mount.get().named()) {
            problem(where, what + " " + inContainer + " is not in a mounted host folder");
            return Optional.empty();
        }
        if (!mount.get().readOnly()) {
            problem(where, what + " " + inContainer + " is mounted writable (" + mount.get() + "); mount it :ro");
        }
        String rest = inContainer.toString().substring(mount.get().target().length());
        Path source = Path.of(mount.get().source());
        Path onHost = Path.of((source.isAbsolute() ? source : files.composeDir.resolve(source)).normalize() + rest);
        if (!Files.isRegularFile(onHost)) {
            problem(where, what + " " + inContainer + " would be " + onHost + " on the host, which does not exist");
            return Optional.empty();
        }
        return Optional.of(onHost);
    }

    /** A compose volume: a named volume or a host folder, mounted at {@code target}. */
    record Mount(String source, String target, boolean readOnly, boolean named) {
        @Override
        public String toString() {
            return source + ":" + target + (readOnly ? ":ro" : "");
        }
    }

    private static Mount composeMount(Object v) {
        if (v instanceof Map<?, ?> m) {
            String type = str(m.get("type"));
            return new Mount(str(m.get("source")), str(m.get("target")), Boolean.TRUE.equals(m.get("read_only")),
                    "volume".equals(type));
        }
        String[] parts = String.valueOf(v).split(":");
        String source = parts[0];
        String target = parts.length > 1 ? parts[1] : parts[0];
        boolean readOnly = parts.length > 2 && List.of(parts[2].split(",")).contains("ro");
        boolean named = !(source.startsWith("/") || source.startsWith(".") || source.startsWith("~"));
        return new Mount(source, target, readOnly, named);
    }

    /** The mount holding a container path (the deepest one). */
    private static Optional<Mount> mountAt(List<Mount> mounts, String path) {
        return mounts.stream().filter(m -> path.equals(m.target()) || path.startsWith(m.target() + "/"))
                .max(Comparator.comparingInt(m -> m.target().length()));
    }

    private static Map<String, String> composeEnv(Map<String, Object> svc) {
        Object env = svc.get("environment");
        Map<String, String> out = new LinkedHashMap<>();
        if (env instanceof List<?> l) {
            for (Object o : l) {
                String s = String.valueOf(o);
                int eq = s.indexOf('=');
                out.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
            }
        } else {
            map(env).forEach((k, v) -> out.put(k, v == null ? "" : String.valueOf(v)));
        }
        return out;
    }

    /** The Dockerfile of a {@code loku/<name>} image, which must run the service's jar. */
    private Optional<Dockerfile> imageDockerfile(String where, String image, ServiceSpec s) {
        Matcher m = image == null ? null : LOKU_IMAGE.matcher(image);
        if (m == null || !m.matches()) {
            problem(where, "image " + image + " is not one of the project's (loku/<name>, built from "
                    + "deploy/docker/<name>.Dockerfile)");
            return Optional.empty();
        }
        Dockerfile d = files.dockerfiles.get(m.group(1) + ".Dockerfile");
        if (d == null) {
            problem(where, "image " + image + " has no deploy/docker/" + m.group(1) + ".Dockerfile");
            return Optional.empty();
        }
        Optional<ServiceSpec> runs = serviceOf(d);
        if (runs.isPresent() && runs.get() != s) {
            problem(where, "image " + image + " runs the " + runs.get().name() + " service, not the " + s.name());
        }
        return Optional.of(d);
    }

    // ---------------------------------------------------------------------------------------------- Kubernetes

    private List<K8sDoc> docs(String kind) {
        return files.k8s.stream().filter(d -> d.kind().equals(kind)).toList();
    }

    private Optional<K8sDoc> doc(String kind, String name) {
        return docs(kind).stream().filter(d -> d.name().equals(name)).findFirst();
    }

    private void checkKubernetes() {
        checkKafkaTopics();
        for (K8sDoc cm : docs("ConfigMap")) {
            map(cm.doc().get("data")).forEach((k, v) -> {
                if (!(v instanceof String)) {
                    problem(cm.where(), "data." + k + " is " + v + " (a YAML " + (v == null ? "null" : v.getClass()
                            .getSimpleName()) + "); ConfigMap values must be strings: quote it");
                }
            });
        }
        String artifactsClaim = null;
        for (ServiceSpec s : code.services()) {
            Optional<K8sDoc> dep = doc("Deployment", s.deployment());
            if (dep.isEmpty()) {
                problem("deploy/k8s", "no Deployment " + s.deployment() + " (the " + s.name() + " service)");
                continue;
            }
            String claim = checkDeployment(dep.get(), s);
            if (claim != null) {
                if (artifactsClaim == null) {
                    artifactsClaim = claim;
                } else if (!artifactsClaim.equals(claim)) {
                    problem(dep.get().where(), "mounts claim " + claim + " as the artifact store; the other services "
                            + "mount " + artifactsClaim);
                }
            }
            if (s.gpu() && docs("ScaledObject").stream()
                    .noneMatch(so -> s.deployment().equals(str(map(map(so.doc().get("spec")).get("scaleTargetRef")).get("name"))))) {
                problem(dep.get().where(), "no ScaledObject scales it on the lag of its input topic");
            }
        }
        for (K8sDoc so : docs("ScaledObject")) {
            checkScaledObject(so);
        }
        checkKustomization();
    }

    private void checkKafkaTopics() {
        Map<String, TopicSpec> declared = new LinkedHashMap<>();
        Set<String> clusters = new TreeSet<>();
        for (K8sDoc t : docs("KafkaTopic")) {
            Map<String, Object> spec = map(t.doc().get("spec"));
            String name = Optional.ofNullable(str(spec.get("topicName"))).orElse(t.name());
            Map<String, Object> config = map(spec.get("config"));
            try {
                TopicSpec d = new TopicSpec(name, Integer.parseInt(str(spec.get("partitions"))),
                        Long.parseLong(str(config.get("retention.ms"))), str(config.get("cleanup.policy")));
                if (declared.put(name, d) != null) {
                    problem(t.where(), name + " is declared twice");
                }
            } catch (NumberFormatException e) {
                problem(t.where(), "partitions and config.retention.ms must be whole numbers, are " + spec.get("partitions")
                        + " and " + config.get("retention.ms"));
            }
            clusters.add(String.valueOf(map(map(t.doc().get("metadata")).get("labels")).get("strimzi.io/cluster")));
        }
        compareTopics("deploy/k8s/topics.yaml: KafkaTopics", declared);
        if (clusters.size() > 1 || clusters.contains("null")) {
            problem("deploy/k8s/topics.yaml", "every KafkaTopic needs the same strimzi.io/cluster label, found " + clusters);
        }
    }

    /** One service's Deployment; returns the claim mounted as its artifact store. */
    private String checkDeployment(K8sDoc dep, ServiceSpec s) {
        String where = dep.where();
        Map<String, Object> spec = map(dep.doc().get("spec"));
        Map<String, Object> template = map(spec.get("template"));
        Map<String, Object> pod = map(template.get("spec"));
        List<Object> containers = list(pod.get("containers"));
        Map<String, Object> container = containers.stream().map(DeployChecker::map)
                .filter(c -> s.name().equals(c.get("name"))).findFirst()
                .orElse(containers.isEmpty() ? Map.of() : map(containers.get(0)));
        if (container.isEmpty()) {
            problem(where, "no container");
            return null;
        }
        Optional<Dockerfile> dockerfile = imageDockerfile(where, str(container.get("image")), s);

        Map<String, Map<String, String>> sources = new LinkedHashMap<>();
        dockerfile.ifPresent(d -> sources.put("deploy/docker/" + d.name() + " ENV", d.image().env()));
        for (Object ef : list(container.get("envFrom"))) {
            Map<String, Object> ref = map(map(ef).get("configMapRef"));
            if (ref.isEmpty()) {
                continue; // a Secret: not ours to see
            }
            String name = str(ref.get("name"));
            Optional<K8sDoc> cm = doc("ConfigMap", name);
            if (cm.isEmpty()) {
                problem(where, "envFrom names ConfigMap " + name + ", which is not in deploy/k8s");
                continue;
            }
            String prefix = Optional.ofNullable(str(map(ef).get("prefix"))).orElse("");
            Map<String, String> vars = new LinkedHashMap<>();
            map(cm.get().doc().get("data")).forEach((k, v) -> vars.put(prefix + k, String.valueOf(v)));
            sources.put(cm.get().where(), vars);
        }
        Map<String, String> direct = new LinkedHashMap<>();
        for (Object e : list(container.get("env"))) {
            Map<String, Object> var = map(e);
            Object value = var.get("value");
            String fieldPath = str(map(map(var.get("valueFrom")).get("fieldRef")).get("fieldPath"));
            // The pod name, as the API server would fill it in.
            direct.put(str(var.get("name")), value != null ? String.valueOf(value)
                    : "metadata.name".equals(fieldPath) ? s.deployment() + "-7d9f8b6c5-x2k4q" : "from-elsewhere");
        }
        sources.put(where + " container env", direct);
        LokuConfig config = environment(where, s, sources);
        if (config == null) {
            return null;
        }
        k8sConfigs.put(s.name(), config);
        CommonConfig common = CommonConfig.from(config);
        int port = common.httpPort();

        Map<String, Integer> ports = new TreeMap<>();
        list(container.get("ports")).forEach(p -> {
            Map<String, Object> m = map(p);
            if (m.get("name") != null) {
                ports.put(str(m.get("name")), Integer.parseInt(str(m.get("containerPort"))));
            }
        });
        for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
            Map<String, Object> p = map(container.get(probe));
            if (p.isEmpty()) {
                if (!probe.equals("startupProbe")) {
                    problem(where, "no " + probe);
                }
                continue;
            }
            Map<String, Object> get = map(p.get("httpGet"));
            Object portRef = get.get("port");
            Integer probed = portRef instanceof Integer i ? Integer.valueOf(i) : ports.get(String.valueOf(portRef));
            if (probed == null || probed != port) {
                problem(where, probe + " calls port " + portRef + (probed == null ? " (no such container port)" : "")
                        + "; the service listens on " + port + " (http.port)");
            }
            if (!HEALTH.equals(get.get("path"))) {
                problem(where, probe + " calls " + get.get("path") + ", not " + HEALTH);
            }
        }
        Map<String, Object> annotations = map(map(template.get("metadata")).get("annotations"));
        if (!"true".equals(str(annotations.get("prometheus.io/scrape")))) {
            problem(where, "pod annotation prometheus.io/scrape is " + annotations.get("prometheus.io/scrape")
                    + ", not \"true\"");
        }
        if (!METRICS.equals(str(annotations.get("prometheus.io/path")))) {
            problem(where, "pod annotation prometheus.io/path is " + annotations.get("prometheus.io/path") + ", not "
                    + METRICS);
        }
        if (!Integer.toString(port).equals(str(annotations.get("prometheus.io/port")))) {
            problem(where, "pod annotation prometheus.io/port is " + annotations.get("prometheus.io/port")
                    + "; the service serves /metrics on " + port + " (http.port)");
        }

        Object replicas = spec.get("replicas");
        int maxPartitions = s.inputs().stream().mapToInt(t -> code.topic(t).map(TopicSpec::partitions).orElse(1)).min()
                .orElse(1);
        if (replicas != null && Integer.parseInt(str(replicas)) > maxPartitions) {
            problem(where, replicas + " replicas, but its input topics " + s.inputs() + " have " + maxPartitions
                    + " partitions: the extra instances would sit idle");
        }
        if (s.gpu()) {
            Object gpus = map(map(container.get("resources")).get("limits")).get("nvidia.com/gpu");
            if (gpus == null || Integer.parseInt(str(gpus)) < 1) {
                problem(where, "the worker needs resources.limits nvidia.com/gpu (has " + gpus + ")");
            }
            if (map(pod.get("nodeSelector")).isEmpty() && map(pod.get("affinity")).isEmpty()) {
                problem(where, "the worker needs a nodeSelector (or affinity) for GPU nodes");
            }
        }
        return checkPodVolumes(where, s, pod, container, common);
    }

    private record PodMount(String volume, String path, boolean readOnly) {
    }

    /** The artifact store on a ReadWriteMany claim, the catalogue from a ConfigMap, model files read-only. */
    private String checkPodVolumes(String where, ServiceSpec s, Map<String, Object> pod, Map<String, Object> container,
                                   CommonConfig common) {
        Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
        list(pod.get("volumes")).forEach(v -> volumes.put(str(map(v).get("name")), map(v)));
        List<PodMount> mounts = list(container.get("volumeMounts")).stream().map(DeployChecker::map)
                .map(m -> new PodMount(str(m.get("name")), str(m.get("mountPath")), Boolean.TRUE.equals(m.get("readOnly"))))
                .toList();
        String artifacts = common.artifactsRoot().toString();
        String claim = null;
        Optional<PodMount> am = mounts.stream().filter(m -> artifacts.equals(m.path())).findFirst();
        Map<String, Object> pvcRef = am.map(m -> map(volumes.get(m.volume()).get("persistentVolumeClaim"))).orElse(Map.of());
        if (am.isEmpty() || pvcRef.isEmpty() || am.get().readOnly()) {
            problem(where, "artifacts.root " + artifacts + " must be a writable mount of a PersistentVolumeClaim");
        } else {
            claim = str(pvcRef.get("claimName"));
            Optional<K8sDoc> pvc = doc("PersistentVolumeClaim", claim);
            if (pvc.isEmpty() || !list(map(pvc.get().doc().get("spec")).get("accessModes")).contains("ReadWriteMany")) {
                problem(where, "the artifact store's claim " + claim + " must exist with accessModes ReadWriteMany "
                        + "(every service, on any node, shares it)");
            }
        }
        String catalogue = common.modelsCatalogue().toString();
        Optional<PodMount> cm = mounts.stream().filter(m -> catalogue.startsWith(m.path() + "/"))
                .max(Comparator.comparingInt(m -> m.path().length()));
        Map<String, Object> cmRef = cm.map(m -> map(volumes.get(m.volume()).get("configMap"))).orElse(Map.of());
        if (cmRef.isEmpty()) {
            problem(where, "models.catalogue " + catalogue + " is not in a ConfigMap volume");
            return claim;
        }
        String key = catalogue.substring(cm.get().path().length() + 1);
        Optional<K8sDoc> map = doc("ConfigMap", str(cmRef.get("name")));
        Object json = map.map(m -> map(m.doc().get("data")).get(key)).orElse(null);
        if (json == null) {
            problem(where, "models.catalogue " + catalogue + ": ConfigMap " + cmRef.get("name") + " has no key " + key);
            return claim;
        }
        ModelCatalogue loaded;
        try {
            Path tmp = Files.createTempFile("catalogue", ".json");
            try {
                Files.writeString(tmp, String.valueOf(json));
                loaded = ModelCatalogue.load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (InvalidCatalogueException e) {
            problem(map.get().where(), "data." + key + ": " + e.getMessage().replaceAll("\\S*catalogue\\d*\\.json", key));
            return claim;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (s.modelFiles()) {
            for (CatalogueModel m : loaded.models()) {
                for (Path p : List.of(m.baseCheckpoint(), m.retainData(), m.unseenData())) {
                    Optional<PodMount> holder = mounts.stream().filter(x -> p.toString().startsWith(x.path() + "/"))
                            .max(Comparator.comparingInt(x -> x.path().length()));
                    if (holder.isEmpty()) {
                        problem(where, "model " + m.id() + ": " + p + " is in no mounted volume");
                    } else if (!holder.get().readOnly() && map(volumes.get(holder.get().volume()).get("configMap")).isEmpty()) {
                        problem(where, "model " + m.id() + ": " + p + " is on a writable mount (" + holder.get().path()
                                + "); mount model files readOnly");
                    }
                }
            }
        }
        return claim;
    }

    private void checkScaledObject(K8sDoc so) {
        String where = so.where();
        Map<String, Object> spec = map(so.doc().get("spec"));
        String target = str(map(spec.get("scaleTargetRef")).get("name"));
        Optional<ServiceSpec> service = code.services().stream().filter(s -> s.deployment().equals(target)).findFirst();
        if (service.isEmpty()) {
            problem(where, "scales " + target + ", which is none of the services' Deployments");
            return;
        }
        ServiceSpec s = service.get();
        String input = s.inputs().get(0);
        int partitions = code.topic(input).map(TopicSpec::partitions).orElse(0);
        Object max = spec.get("maxReplicaCount");
        if (max == null) {
            problem(where, "no maxReplicaCount (KEDA's default is 100); at most " + partitions + ", the partitions of "
                    + input);
        } else if (Integer.parseInt(str(max)) > partitions) {
            problem(where, "maxReplicaCount " + max + " exceeds the " + partitions + " partitions of " + input
                    + ": the extra workers would get no partition");
        }
        List<Map<String, Object>> kafka = list(spec.get("triggers")).stream().map(DeployChecker::map)
                .filter(t -> "kafka".equals(t.get("type"))).toList();
        if (kafka.isEmpty()) {
            problem(where, "no kafka trigger: it must scale on consumer lag");
            return;
        }
        LokuConfig config = k8sConfigs.get(s.name());
        for (Map<String, Object> trigger : kafka) {
            Map<String, Object> meta = map(trigger.get("metadata"));
            if (!input.equals(meta.get("topic"))) {
                problem(where, "kafka trigger watches topic " + meta.get("topic") + "; the " + s.name() + " consumes "
                        + input);
            }
            if (config != null) {
                String group = s.groupId().apply(config);
                if (!group.equals(meta.get("consumerGroup"))) {
                    problem(where, "kafka trigger watches consumer group " + meta.get("consumerGroup") + "; the "
                            + s.name() + "'s group is " + group);
                }
                String bootstrap = String.join(",", CommonConfig.from(config).bootstrapServers());
                if (!bootstrap.equals(meta.get("bootstrapServers"))) {
                    problem(where, "kafka trigger reads bootstrapServers " + meta.get("bootstrapServers") + "; the "
                            + s.name() + " uses " + bootstrap);
                }
            }
            if ("true".equals(str(meta.get("allowIdleConsumers")))) {
                problem(where, "allowIdleConsumers would scale past the partitions of " + input);
            }
            if (meta.get("lagThreshold") == null) {
                problem(where, "no lagThreshold (KEDA's default is 10 records per replica)");
            }
        }
        Optional<K8sDoc> dep = doc("Deployment", target);
        if (dep.isPresent() && map(dep.get().doc().get("spec")).get("replicas") != null) {
            problem(dep.get().where(), "sets replicas although " + where + " manages them (they would fight)");
        }
    }

    private void checkKustomization() {
        Optional<K8sDoc> k = docs("Kustomization").stream().findFirst();
        if (k.isEmpty()) {
            problem("deploy/k8s", "no kustomization.yaml listing the manifests");
            return;
        }
        Set<String> listed = list(k.get().doc().get("resources")).stream().map(String::valueOf)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> present = files.k8sFiles.stream().filter(f -> !f.equals(k.get().file()))
                .collect(Collectors.toCollection(TreeSet::new));
        if (!listed.equals(present)) {
            Set<String> missing = new TreeSet<>(present);
            missing.removeAll(listed);
            Set<String> extra = new TreeSet<>(listed);
            extra.removeAll(present);
            problem("deploy/k8s/" + k.get().file(), "resources must list every manifest of deploy/k8s; missing "
                    + missing + ", not there " + extra);
        }
    }

    // ---------------------------------------------------------------------------------------------- alert rules

    private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)?\\s*\\{([^}]*)}");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern GROUPING = Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
    private static final Pattern IDENT = Pattern.compile("(?<![\\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\\w:])(\\s*\\()?");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "offset", "bool", "inf", "nan");

    private void checkAlertRules() {
        List<K8sDoc> rules = docs("PrometheusRule");
        if (rules.isEmpty()) {
            problem("deploy/k8s", "no PrometheusRule with the alerts of docs/operations.md");
        }
        for (K8sDoc doc : rules) {
            for (Object g : list(map(doc.doc().get("spec")).get("groups"))) {
                for (Object r : list(map(g).get("rules"))) {
                    Map<String, Object> rule = map(r);
                    String where = doc.where() + " alert " + rule.get("alert");
                    if (rule.get("alert") == null || rule.get("expr") == null) {
                        problem(doc.where(), "a rule without alert or expr: " + rule);
                        continue;
                    }
                    if (map(rule.get("labels")).get("severity") == null
                            || map(rule.get("annotations")).get("summary") == null) {
                        problem(where, "needs labels.severity and annotations.summary");
                    }
                    checkExpression(where, String.valueOf(rule.get("expr")));
                }
            }
        }
    }

    /** Metric names, label matchers, audit statuses and grouping labels of one PromQL expression. */
    void checkExpression(String where, String expr) {
        Map<String, Set<String>> exposed = code.metricLabels();
        Set<String> labelsInExpr = new TreeSet<>(Set.of("instance", "job"));
        Matcher sel = SELECTOR.matcher(expr);
        while (sel.find()) {
            String metric = sel.group(1);
            if (metric == null || !exposed.containsKey(metric)) {
                continue; // reported with the names below
            }
            Matcher m = MATCHER.matcher(sel.group(2));
            while (m.find()) {
                String label = m.group(1);
                if (!exposed.get(metric).contains(label)) {
                    problem(where, metric + " has no label " + label + " (its labels: " + exposed.get(metric) + ")");
                } else if (label.equals("status") && metric.startsWith("loku_requests")) {
                    for (String value : m.group(3).split("\\|")) {
                        if (!code.auditStatuses().contains(value)) {
                            problem(where, "status \"" + value + "\" is no audit status (dev.loku.events.AuditStatus: "
                                    + code.auditStatuses() + ")");
                        }
                    }
                }
            }
        }
        String bare = SELECTOR.matcher(expr).replaceAll(mr -> mr.group(1) == null ? " " : mr.group(1) + " ")
                .replaceAll("\\[[^]]*]", " ").replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", " ");
        List<String> grouping = new ArrayList<>();
        Matcher g = GROUPING.matcher(bare);
        while (g.find()) {
            for (String l : g.group(2).split(",")) {
                if (!l.isBlank()) {
                    grouping.add(l.strip());
                }
            }
        }
        bare = GROUPING.matcher(bare).replaceAll(" ");
        Matcher id = IDENT.matcher(bare);
        Set<String> metrics = new TreeSet<>();
        while (id.find()) {
            String name = id.group(1);
            if (id.group(2) != null || KEYWORDS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                continue; // a function or an aggregation, or a keyword
            }
            metrics.add(name);
        }
        if (metrics.isEmpty()) {
            problem(where, "names no metric: " + expr);
        }
        for (String name : metrics) {
            if (!exposed.containsKey(name)) {
                problem(where, "uses " + name + ", which the services do not expose (they expose "
                        + exposed.keySet() + ")");
            } else {
                labelsInExpr.addAll(exposed.get(name));
            }
        }
        for (String l : grouping) {
            if (!labelsInExpr.contains(l)) {
                problem(where, "groups by " + l + ", a label none of its metrics has");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o instanceof List<?> l ? (List<Object>) l : List.of();
    }

    static String str(Object o) {
        return o == null ? null : String.valueOf(o);
    }

    private static String lastPart(String s) {
        return s.substring(s.lastIndexOf(':') + 1);
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
