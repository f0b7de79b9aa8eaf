package dev.loku.runtime.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests of {@code /metrics}: every line must
 * be a {@code # HELP}, a {@code # TYPE} or a sample {@code name{label="value",...} value}, names and labels well
 * formed, escapes valid, values numbers (or NaN, +Inf, -Inf), and every sample's family declared by a TYPE line
 * before it. Anything else is an {@link AssertionError} naming the line.
 */
public final class PrometheusText {

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final List<String> TYPES = List.of("counter", "gauge", "histogram", "summary", "untyped");

    private final Map<String, String> types;
    private final List<Sample> samples;

    private PrometheusText(Map<String, String> types, List<Sample> samples) {
        this.types = types;
        this.samples = samples;
    }

    public static PrometheusText parse(String text) {
        Map<String, String> types = new LinkedHashMap<>();
        List<Sample> samples = new ArrayList<>();
        int n = 0;
        for (String line : text.split("\n", -1)) {
            n++;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] p = line.substring(7).split(" ");
                check(p.length == 2 && NAME.matcher(p[0]).matches() && TYPES.contains(p[1]), n, line);
                check(types.put(p[0], p[1]) == null, n, "family declared twice: " + line);
            } else if (line.startsWith("# HELP ")) {
                check(NAME.matcher(line.substring(7).split(" ", 2)[0]).matches(), n, line);
            } else if (line.startsWith("#")) {
                continue; // a comment
            } else {
                Sample s = sample(line, n);
                check(family(s.name(), types).isPresent(), n, "sample before its family's TYPE: " + line);
                samples.add(s);
            }
        }
        return new PrometheusText(types, samples);
    }

    private static Sample sample(String line, int n) {
        Matcher m = NAME.matcher(line);
        check(m.lookingAt(), n, line);
        String name = m.group();
        int i = m.end();
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                Matcher l = LABEL_NAME.matcher(line).region(i, line.length());
                check(l.lookingAt(), n, line);
                String label = l.group();
                i = l.end();
                check(line.startsWith("=\"", i), n, line);
                i += 2;
                StringBuilder value = new StringBuilder();
                while (line.charAt(i) != '"') {
                    char c = line.charAt(i++);
                    if (c == '\\') {
                        char e = line.charAt(i++);
                        check(e == '\\' || e == '"' || e == 'n', n, "bad escape in " + line);
                        value.append(e == 'n' ? '\n' : e);
                    } else {
                        value.append(c);
                    }
                }
                i++;
                check(labels.put(label, value.toString()) == null, n, "label twice: " + line);
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        check(i < line.length() && line.charAt(i) == ' ', n, line);
        String[] rest = line.substring(i + 1).split(" ");
        check(rest.length == 1 || rest.length == 2, n, line);
        double value;
        switch (rest[0]) {
            case "NaN" -> value = Double.NaN;
            case "+Inf" -> value = Double.POSITIVE_INFINITY;
            case "-Inf" -> value = Double.NEGATIVE_INFINITY;
            default -> {
                try {
                    value = Double.parseDouble(rest[0]);
                } catch (NumberFormatException e) {
                    throw new AssertionError("line " + n + ": not a value: " + line);
                }
            }
        }
        return new Sample(name, labels, value);
    }

    private static Optional<String> family(String sample, Map<String, String> types) {
        if (types.containsKey(sample)) {
            return Optional.of(sample);
        }
        for (String suffix : List.of("_bucket", "_sum", "_count", "_total", "_created")) {
            if (sample.endsWith(suffix) && types.containsKey(sample.substring(0, sample.length() - suffix.length()))) {
                return Optional.of(sample.substring(0, sample.length() - suffix.length()));
            }
        }
        return Optional.empty();
    }

    private static void check(boolean ok, int line, String what) {
        if (!ok) {
            throw new AssertionError("line " + line + " is not in the Prometheus text format: " + what);
        }
    }

    /** Family name to type, in scrape order. */
    public Map<String, String> types() {
        return types;
    }

    public List<Sample> samples() {
        return samples;
    }

    /** The samples named {@code name} whose labels include {@code labels}. */
    public List<Sample> samples(String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.name().equals(name)
                && s.labels().entrySet().containsAll(labels.entrySet())).toList();
    }

    /** The one sample named {@code name} with {@code labels}; fails unless exactly one. */
    public double value(String name, Map<String, String> labels) {
        List<Sample> found = samples(name, labels);
        if (found.size() != 1) {
            throw new AssertionError(found.size() + " samples " + name + labels + "; names: "
                    + samples.stream().map(Sample::name).distinct().toList());
        }
        return found.get(0).value();
    }
}
