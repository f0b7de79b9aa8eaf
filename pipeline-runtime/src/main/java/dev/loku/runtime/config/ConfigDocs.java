package dev.loku.runtime.config;

import java.util.List;

/**
 * Renders configuration fields for people: a Markdown table per group for the operations docs, and a plain-text
 * list for {@code --help}. Both come from the field declarations, so docs cannot drift from the code.
 */
public final class ConfigDocs {

    private ConfigDocs() {
    }

    /** A Markdown section per group: heading, then a table of field, environment variable, type, default, allowed, description. */
    public static String markdown(List<ConfigGroup> groups) {
        StringBuilder sb = new StringBuilder();
        for (ConfigGroup g : groups) {
            sb.append("### ").append(g.title()).append(" (`").append(g.name()).append("`)\n\n");
            sb.append("| field | environment variable | type | default | allowed | description |\n");
            sb.append("|---|---|---|---|---|---|\n");
            for (ConfigField<?> f : g.fields()) {
                sb.append("| `").append(f.name()).append("` | `").append(f.envVar()).append("` | ")
                        .append(f.type().name()).append(" | ")
                        .append(f.required() ? "*required*" : cell(f.secret() ? "(secret)" : f.defaultText())).append(" | ")
                        .append(cell(f.allowed())).append(" | ")
                        .append(cell(f.description())).append(" |\n");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Plain text for a terminal: one paragraph per field. */
    public static String text(List<ConfigGroup> groups) {
        StringBuilder sb = new StringBuilder();
        for (ConfigGroup g : groups) {
            sb.append(g.title()).append(":\n");
            for (ConfigField<?> f : g.fields()) {
                sb.append("  ").append(f.name()).append("  (").append(f.envVar()).append(", ").append(f.type().name())
                        .append(f.required() ? ", required" : ", default " + (f.defaultText().isEmpty() ? "empty" : f.defaultText()))
                        .append(")\n      ").append(f.description()).append(" Allowed: ").append(f.allowed()).append(".\n");
            }
        }
        return sb.toString();
    }

    private static String cell(String s) {
        return s.isEmpty() ? "" : s.replace("|", "\\|").replace("\n", " ");
    }
}
