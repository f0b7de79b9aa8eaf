package dev.loku.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Everything under {@code deploy/} the checks read, parsed: the compose file (SnakeYAML, so anchors and merge keys
 * resolve as compose resolves them), every Kubernetes document, every Dockerfile, and the root POM's properties.
 * {@link #copy()} gives a deep copy for tests that change a manifest and expect the checker to notice.
 */
final class DeployFiles {

    /** One YAML document of {@code deploy/k8s}. */
    record K8sDoc(String file, Map<String, Object> doc) {
        String kind() {
            return String.valueOf(doc.get("kind"));
        }

        String name() {
            Object meta = doc.get("metadata");
            return meta instanceof Map<?, ?> m ? String.valueOf(m.get("name")) : "?";
        }

        /** {@code deploy/k8s/topics.yaml: KafkaTopic loku.audit}. */
        String where() {
            return "deploy/k8s/" + file + ": " + kind() + " " + name();
        }
    }

    final Path root;
    /** What the compose checks report as the file ({@code deploy/compose.yaml}, or a docker-compose rendering). */
    String composeLabel;
    /** Folder that relative compose paths are resolved against. */
    Path composeDir;
    Map<String, Object> compose;
    final List<K8sDoc> k8s;
    /** File names of {@code deploy/k8s/*.yaml}. */
    final List<String> k8sFiles;
    /** By file name ({@code ingest.Dockerfile}). */
    final Map<String, Dockerfile> dockerfiles;
    final Map<String, String> pomProperties;

    private DeployFiles(Path root, String composeLabel, Path composeDir, Map<String, Object> compose, List<K8sDoc> k8s,
                        List<String> k8sFiles, Map<String, Dockerfile> dockerfiles, Map<String, String> pomProperties) {
        this.root = root;
        this.composeLabel = composeLabel;
        this.composeDir = composeDir;
        this.compose = compose;
        this.k8s = k8s;
        this.k8sFiles = k8sFiles;
        this.dockerfiles = dockerfiles;
        this.pomProperties = pomProperties;
    }

    /** The repository root: the build passes it as {@code loku.project.root}; else found from the working directory. */
    static Path projectRoot() {
        String prop = System.getProperty("loku.project.root");
        if (prop != null && Files.isRegularFile(Path.of(prop, "deploy", "compose.yaml"))) {
            return Path.of(prop);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("deploy/compose.yaml")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root (deploy/compose.yaml) from "
                + Path.of("").toAbsolutePath() + "; set -Dloku.project.root");
    }

    static DeployFiles load(Path root) {
        try {
            Path deploy = root.resolve("deploy");
            Map<String, Object> compose = yamlMap(Files.readString(deploy.resolve("compose.yaml")), "deploy/compose.yaml");
            List<K8sDoc> k8s = new ArrayList<>();
            List<String> k8sFiles = new ArrayList<>();
            try (Stream<Path> files = Files.list(deploy.resolve("k8s"))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                    k8sFiles.add(f.getFileName().toString());
                    for (Object doc : yaml().loadAll(Files.readString(f))) {
                        if (doc == null) {
                            continue; // a comment-only document
                        }
                        k8s.add(new K8sDoc(f.getFileName().toString(), asMap(doc, "deploy/k8s/" + f.getFileName())));
                    }
                }
            }
            Map<String, Dockerfile> dockerfiles = new TreeMap<>();
            try (Stream<Path> files = Files.list(deploy.resolve("docker"))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".Dockerfile")).sorted().toList()) {
                    String name = f.getFileName().toString();
                    dockerfiles.put(name, Dockerfile.parse(name, Files.readString(f, StandardCharsets.UTF_8)));
                }
            }
            return new DeployFiles(root, "deploy/compose.yaml", deploy, compose, k8s, k8sFiles, dockerfiles,
                    pomProperties(root.resolve("pom.xml")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The same files with the compose model replaced (e.g. by what {@code docker-compose config} printed). */
    DeployFiles withCompose(String label, Path dir, Map<String, Object> rendered) {
        DeployFiles copy = copy();
        copy.composeLabel = label;
        copy.composeDir = dir;
        copy.compose = rendered;
        return copy;
    }

    /** A deep copy: changing the copy's YAML leaves this one as it was. */
    DeployFiles copy() {
        List<K8sDoc> k8sCopy = new ArrayList<>();
        for (K8sDoc d : k8s) {
            k8sCopy.add(new K8sDoc(d.file(), deepCopy(d.doc())));
        }
        return new DeployFiles(root, composeLabel, composeDir, deepCopy(compose), k8sCopy, new ArrayList<>(k8sFiles),
                new TreeMap<>(dockerfiles), new TreeMap<>(pomProperties));
    }

    static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        return new Yaml(options);
    }

    static Map<String, Object> yamlMap(String text, String what) {
        return asMap(yaml().load(text), what);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o, String what) {
        if (!(o instanceof Map<?, ?>)) {
            throw new IllegalArgumentException(what + ": expected a mapping at the top, found " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static <T> T deepCopy(T value) {
        if (value instanceof Map<?, ?> m) {
            Map<Object, Object> copy = new LinkedHashMap<>();
            m.forEach((k, v) -> copy.put(k, deepCopy(v)));
            return (T) copy;
        }
        if (value instanceof List<?> l) {
            List<Object> copy = new ArrayList<>();
            l.forEach(v -> copy.add(deepCopy(v)));
            return (T) copy;
        }
        return value;
    }

    private static Map<String, String> pomProperties(Path pom) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Element project = factory.newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
            Map<String, String> props = new TreeMap<>();
            NodeList children = project.getChildNodes();
            for (int i = 0; i < children.getLength(); i++) {
                Node n = children.item(i);
                if (n instanceof Element e && e.getTagName().equals("properties")) {
                    NodeList ps = e.getChildNodes();
                    for (int j = 0; j < ps.getLength(); j++) {
                        if (ps.item(j) instanceof Element p) {
                            props.put(p.getTagName(), p.getTextContent().strip());
                        }
                    }
                }
            }
            return props;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + pom + ": " + e.getMessage(), e);
        }
    }
}
