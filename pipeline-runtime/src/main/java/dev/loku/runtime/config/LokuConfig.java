package dev.loku.runtime.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's configuration, read once at start-up and immutable after: every field of the given
 * {@link ConfigGroup}s parsed and validated, or an {@link InvalidConfigException} listing every bad or missing
 * field. Where a value comes from, highest precedence first:
 * <ol>
 *   <li>the field's environment variable ({@code LOKU_INGEST_BATCH_MAX_REQUESTS} for
 *       {@code ingest.batch.max.requests}), as containers are usually configured;</li>
 *   <li>the properties file ({@code --config FILE});</li>
 *   <li>the field's default.</li>
 * </ol>
 * Relative {@link ConfigType#PATH paths} in the file are resolved against the file's folder, so a config file and
 * the files it names can move together; relative paths from the environment against the working directory.
 *
 * <p>Keys in the file starting with {@value #KAFKA_PREFIX} that are not typed fields (the security settings are:
 * {@link KafkaSecurityConfig}) are passed, without the prefix, to every Kafka client the service makes: see
 * {@link #kafkaOverrides()}. Other unknown keys are
 * logged as a warning (name only), the way Kafka treats unknown client settings: one file may serve several
 * services.
 */
public final class LokuConfig {

    /** Prefix of file keys handed to the Kafka clients verbatim. */
    public static final String KAFKA_PREFIX = "kafka.";

    private static final Logger LOG = LoggerFactory.getLogger(LokuConfig.class);

    private final Map<String, Object> values;
    private final Map<String, String> sources;
    private final Map<String, String> kafkaOverrides;
    private final List<ConfigGroup> groups;

    private LokuConfig(Map<String, Object> values, Map<String, String> sources, Map<String, String> kafkaOverrides,
                       List<ConfigGroup> groups) {
        this.values = Collections.unmodifiableMap(values);
        this.sources = Collections.unmodifiableMap(sources);
        this.kafkaOverrides = Collections.unmodifiableMap(kafkaOverrides);
        this.groups = List.copyOf(groups);
    }

    /**
     * Reads {@code file} (may be null: environment and defaults only) with overrides from {@code environment}
     * (normally {@code System.getenv()}).
     *
     * @throws InvalidConfigException naming the file and each bad field
     */
    public static LokuConfig load(Path file, Map<String, String> environment, List<ConfigGroup> groups) {
        Properties props = new Properties();
        if (file != null) {
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                props.load(reader);
            } catch (NoSuchFileException e) {
                throw new InvalidConfigException("cannot read config file " + file,
                        List.of("no such file; pass an existing properties file with --config"));
            } catch (IOException | IllegalArgumentException e) {
                throw new InvalidConfigException("cannot read config file " + file, List.of(String.valueOf(e.getMessage())));
            }
        }
        Map<String, String> fileValues = new TreeMap<>();
        props.stringPropertyNames().forEach(k -> fileValues.put(k, props.getProperty(k)));
        return resolve(fileValues, file, environment, groups);
    }

    /** As {@link #load} from in-memory values (tests, the embedded demo); {@code values} play the file's part. */
    public static LokuConfig of(Map<String, String> values, List<ConfigGroup> groups) {
        return resolve(new TreeMap<>(values), null, Map.of(), groups);
    }

    private static LokuConfig resolve(Map<String, String> fileValues, Path file, Map<String, String> environment,
                                      List<ConfigGroup> groups) {
        List<ConfigField<?>> fields = ConfigGroup.allFields(groups);
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, String> sources = new HashMap<>();
        List<String> problems = new ArrayList<>();
        String fileName = file == null ? "settings" : "file " + file;
        Path baseDir = file == null ? null : file.toAbsolutePath().getParent();
        for (ConfigField<?> field : fields) {
            try {
                String env = environment.get(field.envVar());
                if (env != null) {
                    values.put(field.name(), field.parse(env, "environment " + field.envVar()));
                    sources.put(field.name(), "environment " + field.envVar());
                } else if (fileValues.containsKey(field.name())) {
                    Object v = field.parse(fileValues.get(field.name()), fileName);
                    if (v instanceof Path p && baseDir != null && !p.isAbsolute()) {
                        v = baseDir.resolve(p).normalize();
                    }
                    values.put(field.name(), v);
                    sources.put(field.name(), fileName);
                } else if (field.required()) {
                    problems.add(field.name() + " is required (set it in the config file or as " + field.envVar()
                            + "); allowed: " + field.allowed());
                } else {
                    values.put(field.name(), field.defaultValue().orElse(null));
                    sources.put(field.name(), "default");
                }
            } catch (InvalidConfigException.Problem p) {
                problems.add(p.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigException("invalid configuration" + (file == null ? "" : " in " + file), problems);
        }
        Map<String, String> kafka = new TreeMap<>();
        Set<String> unknown = new TreeSet<>();
        Set<String> known = new TreeSet<>(values.keySet());
        for (Map.Entry<String, String> e : fileValues.entrySet()) {
            if (known.contains(e.getKey())) {
                continue; // a typed field (kafka.security.protocol...), read above
            }
            if (e.getKey().startsWith(KAFKA_PREFIX)) {
                kafka.put(e.getKey().substring(KAFKA_PREFIX.length()), e.getValue());
            } else {
                unknown.add(e.getKey());
            }
        }
        if (!unknown.isEmpty()) {
            LOG.warn("event=config_unknown_keys keys={} hint=\"not read by this service; check the spelling\"", unknown);
        }
        return new LokuConfig(values, sources, kafka, groups);
    }

    /** The field's value (its default when not set). */
    public <T> T get(ConfigField<T> field) {
        Objects.requireNonNull(field, "field");
        if (!values.containsKey(field.name())) {
            throw new IllegalArgumentException("config field " + field.name() + " is not in the groups this config was "
                    + "loaded with; add its group to LokuConfig.load");
        }
        @SuppressWarnings("unchecked")
        T value = (T) values.get(field.name());
        return value;
    }

    /** Where the field's value came from: {@code default}, {@code file ...} or {@code environment LOKU_...}. */
    public String sourceOf(ConfigField<?> field) {
        return sources.getOrDefault(field.name(), "unknown");
    }

    /** Settings for every Kafka client, from the file's {@code kafka.*} keys, prefix removed. */
    public Map<String, String> kafkaOverrides() {
        return kafkaOverrides;
    }

    /** The groups this config was read with. */
    public List<ConfigGroup> groups() {
        return groups;
    }

    /**
     * Every field as {@code name=value}, space-separated, then the raw {@code kafka.*} keys: the config dump. Secret
     * fields, and raw keys that name a password, key, secret, token or JAAS line, show as {@code (secret)} when set.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (ConfigField<?> f : ConfigGroup.allFields(groups)) {
            Object v = values.get(f.name());
            sb.append(sb.length() == 0 ? "" : " ").append(f.name()).append('=')
                    .append(f.secret() && v != null ? "(secret)" : format(f, v));
        }
        for (Map.Entry<String, String> e : kafkaOverrides.entrySet()) {
            sb.append(sb.length() == 0 ? "" : " ").append(KAFKA_PREFIX).append(e.getKey()).append('=')
                    .append(sensitiveKafkaKey(e.getKey()) ? "(secret)" : e.getValue());
        }
        return sb.toString();
    }

    /** Kafka client keys whose value is a credential ({@code ssl.key.password}, {@code sasl.jaas.config}...). */
    static boolean sensitiveKafkaKey(String key) {
        String k = key.toLowerCase(java.util.Locale.ROOT);
        return k.contains("password") || k.contains("jaas") || k.contains("secret") || k.contains("token")
                || k.contains("credentials") || k.endsWith("keystore.key");
    }

    @SuppressWarnings("unchecked")
    private static <T> String format(ConfigField<T> f, Object v) {
        return v == null ? "" : f.type().format((T) v);
    }
}
