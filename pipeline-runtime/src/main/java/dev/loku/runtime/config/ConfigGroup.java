package dev.loku.runtime.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The fields one service (or all of them, for {@code common}) reads, under a title for the docs. A service's
 * config class declares its fields as constants and lists them in one group:
 *
 * <pre>{@code
 * public static final ConfigGroup GROUP = ConfigGroup.of("fisher", "Fisher importance service",
 *         FISHER_APPLICATION_ID, FISHER_RETAIN_SAMPLE_SEED);
 * }</pre>
 *
 * @param name        short name (common, ingest, fisher, worker, eval)
 * @param title       heading in the docs
 * @param fields      the fields, in documentation order
 */
public record ConfigGroup(String name, String title, List<ConfigField<?>> fields) {

    public ConfigGroup {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(title, "title");
        fields = List.copyOf(fields);
        Set<String> seen = new HashSet<>();
        for (ConfigField<?> f : fields) {
            if (!seen.add(f.name())) {
                throw new IllegalArgumentException("group " + name + " declares " + f.name() + " twice");
            }
        }
    }

    public static ConfigGroup of(String name, String title, ConfigField<?>... fields) {
        return new ConfigGroup(name, title, List.of(fields));
    }

    /** The fields of several groups, refusing a name declared by two of them. */
    static List<ConfigField<?>> allFields(List<ConfigGroup> groups) {
        List<ConfigField<?>> all = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (ConfigGroup g : groups) {
            for (ConfigField<?> f : g.fields()) {
                if (!names.add(f.name())) {
                    throw new IllegalArgumentException("config field " + f.name() + " is declared by two groups");
                }
                all.add(f);
            }
        }
        return all;
    }
}
