package dev.loku.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The packages of this module depend on each other one way only: jdeps reads the compiled classes (so imports,
 * fully qualified names and inherited types all count, comments do not), and no package may reach itself again.
 */
class PackageCycleTest {

    private static final String ROOT = "dev.loku.runtime";
    private static final Pattern EDGE = Pattern.compile("^\\s+(" + Pattern.quote(ROOT) + "[\\w.]*)\\s+->\\s+("
            + Pattern.quote(ROOT) + "[\\w.]*)\\s");

    @Test
    void noPackageOfThePipelineRuntimeDependsOnItselfThroughOthers() throws Exception {
        Map<String, Set<String>> graph = packageGraph();
        assertTrue(graph.containsKey(ROOT + ".kafka") && graph.containsKey(ROOT + ".audit"),
                "jdeps found the module's packages: " + graph.keySet());
        assertTrue(graph.get(ROOT + ".audit").contains(ROOT + ".kafka"),
                "the audit trail builds on the Kafka plumbing: " + graph);

        assertEquals(List.of(), cycle(graph), "package cycle in " + ROOT + " (jdeps -verbose:package): " + graph);
    }

    @Test
    void theCycleSearchFindsACycle() {
        Map<String, Set<String>> graph = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d"),
                "d", Set.of());
        assertEquals(List.of("a", "b", "c", "a"), cycle(graph));
        assertEquals(List.of(), cycle(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of())));
    }

    /** Package to the other packages of this module it uses, from jdeps over the main classes. */
    private static Map<String, Set<String>> packageGraph() throws Exception {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(
                () -> new AssertionError("jdeps is not in this JDK; the package check needs a full JDK"));
        Path classes = Path.of(PipelineIds.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-filter:none",
                classes.toString());
        assertEquals(0, code, "jdeps failed: " + err);
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String line : out.toString().lines().toList()) {
            Matcher m = EDGE.matcher(line);
            if (m.find()) {
                graph.computeIfAbsent(m.group(1), k -> new TreeSet<>());
                graph.computeIfAbsent(m.group(2), k -> new TreeSet<>());
                if (!m.group(1).equals(m.group(2))) {
                    graph.get(m.group(1)).add(m.group(2));
                }
            }
        }
        return graph;
    }

    /** The first cycle found, as the packages along it with the first repeated at the end; empty if none. */
    private static List<String> cycle(Map<String, Set<String>> graph) {
        Set<String> done = new TreeSet<>();
        for (String start : new TreeSet<>(graph.keySet())) {
            Deque<String> path = new ArrayDeque<>();
            List<String> found = visit(start, graph, path, done);
            if (!found.isEmpty()) {
                return found;
            }
        }
        return List.of();
    }

    private static List<String> visit(String node, Map<String, Set<String>> graph, Deque<String> path,
                                      Set<String> done) {
        if (path.contains(node)) {
            List<String> onPath = new ArrayList<>(path);
            List<String> loop = new ArrayList<>(onPath.subList(onPath.indexOf(node), onPath.size()));
            loop.add(node);
            return loop;
        }
        if (done.contains(node)) {
            return List.of();
        }
        path.addLast(node);
        for (String next : new TreeSet<>(graph.getOrDefault(node, Set.of()))) {
            List<String> found = visit(next, graph, path, done);
            if (!found.isEmpty()) {
                return found;
            }
        }
        path.removeLast();
        done.add(node);
        return List.of();
    }
}
