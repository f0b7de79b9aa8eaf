package dev.loku.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read as far as the deploy checks need: its stages (FROM image, AS name) and each stage's
 * instructions with their arguments, continuation lines joined and comments dropped. ENV, ENTRYPOINT, EXPOSE and
 * HEALTHCHECK have helpers; no variable is expanded.
 *
 * @param name   the file name, e.g. {@code worker-cuda.Dockerfile}
 * @param stages the build stages in order; the last one is the image
 */
record Dockerfile(String name, List<Stage> stages) {

    /** One instruction: its keyword upper-cased and the rest of its (joined) line. */
    record Instruction(String keyword, String args) {
    }

    /** One stage: {@code FROM image [AS alias]} and what follows until the next FROM. */
    record Stage(String image, String alias, List<Instruction> instructions) {

        List<String> args(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
        }

        /** Every ENV of the stage, later values winning. */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            for (String args : args("ENV")) {
                env.putAll(parseEnv(args));
            }
            return env;
        }
    }

    private static final Pattern FROM = Pattern.compile("(?i)(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?");

    static Dockerfile parse(String name, String text) {
        List<String> logical = new ArrayList<>();
        StringBuilder current = null;
        for (String raw : text.split("\n", -1)) {
            String line = raw.stripTrailing();
            if (current == null && (line.isBlank() || line.stripLeading().startsWith("#"))) {
                continue;
            }
            if (current != null && line.stripLeading().startsWith("#")) {
                continue; // comment lines inside a continued instruction are dropped, as Docker does
            }
            boolean continues = line.endsWith("\\");
            String body = continues ? line.substring(0, line.length() - 1) : line;
            if (current == null) {
                current = new StringBuilder(body.strip());
            } else {
                current.append(' ').append(body.strip());
            }
            if (!continues) {
                logical.add(current.toString());
                current = null;
            }
        }
        if (current != null) {
            logical.add(current.toString());
        }
        List<Stage> stages = new ArrayList<>();
        List<Instruction> instructions = null;
        for (String line : logical) {
            int space = line.indexOf(' ');
            String keyword = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
            String args = space < 0 ? "" : line.substring(space + 1).strip();
            if (keyword.equals("FROM")) {
                Matcher m = FROM.matcher(args);
                if (!m.matches()) {
                    throw new IllegalArgumentException(name + ": cannot read FROM " + args);
                }
                instructions = new ArrayList<>();
                stages.add(new Stage(m.group(1), m.group(2), instructions));
            } else if (instructions != null) {
                instructions.add(new Instruction(keyword, args));
            }
        }
        return new Dockerfile(name, List.copyOf(stages));
    }

    /** The image's own stage: the last one. */
    Stage image() {
        return stages.get(stages.size() - 1);
    }

    Optional<Stage> stage(String alias) {
        return stages.stream().filter(s -> alias.equals(s.alias())).findFirst();
    }

    /** The ENTRYPOINT of the image in exec form, or empty when absent or in shell form. */
    Optional<List<String>> entrypoint() {
        List<String> all = image().args("ENTRYPOINT");
        if (all.isEmpty()) {
            return Optional.empty();
        }
        return jsonArray(all.get(all.size() - 1));
    }

    /** A JSON array of strings, Docker's exec form (JSON is YAML's flow style, so SnakeYAML reads it). */
    static Optional<List<String>> jsonArray(String text) {
        String t = text.strip();
        if (!t.startsWith("[")) {
            return Optional.empty();
        }
        Object parsed = new org.yaml.snakeyaml.Yaml().load(t);
        if (!(parsed instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
            return Optional.empty();
        }
        return Optional.of(list.stream().map(String.class::cast).toList());
    }

    /** {@code KEY=value KEY2="a b"} (and the legacy {@code KEY value}) into a map. */
    static Map<String, String> parseEnv(String args) {
        Map<String, String> env = new LinkedHashMap<>();
        String s = args.strip();
        if (!s.contains("=") || s.indexOf(' ') >= 0 && s.indexOf(' ') < s.indexOf('=')) {
            int space = s.indexOf(' ');
            env.put(s.substring(0, space), s.substring(space + 1).strip());
            return env;
        }
        int i = 0;
        while (i < s.length()) {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            int eq = s.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String key = s.substring(i, eq);
            StringBuilder value = new StringBuilder();
            int j = eq + 1;
            char quote = 0;
            while (j < s.length()) {
                char c = s.charAt(j);
                if (quote == 0 && Character.isWhitespace(c)) {
                    break;
                }
                if (c == '\\' && j + 1 < s.length()) {
                    value.append(s.charAt(j + 1));
                    j += 2;
                    continue;
                }
                if (quote == 0 && (c == '"' || c == '\'')) {
                    quote = c;
                } else if (c == quote) {
                    quote = 0;
                } else {
                    value.append(c);
                }
                j++;
            }
            env.put(key, value.toString());
            i = j;
        }
        return env;
    }
}
