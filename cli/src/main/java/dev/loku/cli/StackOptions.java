package dev.loku.cli;

import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.ConfigGroup;
import dev.loku.runtime.config.InvalidConfigException;
import dev.loku.runtime.config.KafkaSecurityConfig;
import dev.loku.runtime.config.KeyStoreConfig;
import dev.loku.runtime.config.LokuConfig;
import dev.loku.runtime.config.RegistryConfig;
import dev.loku.runtime.crypto.DataKeyStore;
import dev.loku.runtime.crypto.DataKeyStores;
import dev.loku.runtime.serde.RegistrySerdes;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Which running stack {@code loku submit} and {@code loku status} talk to, read the way the services read it: the
 * broker, Kafka security and registry fields of a service's properties file ({@code --config}), overridden by their
 * {@code LOKU_*} environment variables, overridden by the two options here. So a secured cluster and a Confluent
 * Cloud registry work from the same file or variables the services use.
 */
final class StackOptions {

    /** The fields a client of a running stack reads: where Kafka and the registry are, and how to log in. */
    static final ConfigGroup CONNECTION = new ConfigGroup("connection", "Connection", fields());

    private static List<ConfigField<?>> fields() {
        List<ConfigField<?>> f = new ArrayList<>();
        f.add(CommonConfig.BOOTSTRAP_SERVERS);
        f.addAll(KafkaSecurityConfig.FIELDS);
        f.addAll(RegistryConfig.FIELDS);
        return f;
    }

    @Option(names = "--config", paramLabel = "FILE",
            description = "A service's properties file: its bootstrap.servers, kafka.* security and registry.* "
                    + "settings are used (LOKU_* environment variables override them, and the options below override "
                    + "both).")
    Path config;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...", description = "Kafka brokers.")
    String bootstrapServers;

    @Option(names = "--registry-url", paramLabel = "URL",
            description = "Schema registry API (registry.api, default confluent: e.g. http://host:8081 or Apicurio's "
                    + "http://host:8080/apis/ccompat/v7).")
    String registryUrl;

    /** Client settings and serdes for the stack. */
    record Connection(Map<String, Object> kafka, RegistrySerdes serdes, String bootstrapServers) {
    }

    /** Reads the connection; a bad file, variable or option is a one-line {@link UserException}. */
    Connection connect() {
        try {
            LokuConfig c = loadQuietly();
            Map<String, Object> kafka = new HashMap<>(c.kafkaOverrides());
            KafkaSecurityConfig security = KafkaSecurityConfig.from(c);
            kafka.putAll(security.clientSettings());
            String bootstrap = bootstrapServers != null ? bootstrapServers
                    : String.join(",", c.get(CommonConfig.BOOTSTRAP_SERVERS));
            kafka.put("bootstrap.servers", bootstrap);
            RegistryConfig registry = RegistryConfig.from(c);
            if (registryUrl != null) {
                URI url;
                try {
                    url = URI.create(registryUrl);
                } catch (IllegalArgumentException e) {
                    throw new UserException("--registry-url '" + registryUrl + "' is not a URL");
                }
                registry = registry.at(registry.api(), url);
            }
            return new Connection(kafka, RegistrySerdes.forConfig(registry), bootstrap);
        } catch (InvalidConfigException | IllegalStateException e) {
            throw new UserException(e.getMessage());
        }
    }

    /**
     * The data key store sealing producers share with the services: {@code keysRoot} when given, else the
     * {@code keys.*} (or {@code artifacts.root}) settings of {@code --config} and the environment.
     */
    DataKeyStore keyStore(Path keysRoot) {
        if (keysRoot != null) {
            return DataKeyStores.open(new KeyStoreConfig(KeyStoreConfig.DIRECTORY, keysRoot));
        }
        List<ConfigField<?>> f = new ArrayList<>(KeyStoreConfig.FIELDS);
        f.add(ConfigField.of(CommonConfig.ARTIFACTS_ROOT.name(), dev.loku.runtime.config.ConfigType.PATH).optional()
                .description("artifacts root").build());
        try {
            LokuConfig c = LokuConfig.load(config, System.getenv(), List.of(new ConfigGroup("keys", "Keys", f)));
            KeyStoreConfig keys = KeyStoreConfig.from(c,
                    c.get(f.get(f.size() - 1)) instanceof Path p ? p : null);
            if (keys.root() == null && KeyStoreConfig.DIRECTORY.equals(keys.store())) {
                throw new UserException("the content must be sealed under the pipeline's data key store: give "
                        + "--keys-root DIR, or --config with keys.root or artifacts.root");
            }
            return DataKeyStores.open(keys);
        } catch (InvalidConfigException | IllegalStateException | java.io.UncheckedIOException e) {
            throw new UserException(e.getMessage());
        }
    }

    private LokuConfig loadQuietly() {
        // A service's file has many keys these commands do not read; LokuConfig would warn about each.
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(LokuConfig.class);
        ch.qos.logback.classic.Level before = log.getLevel();
        log.setLevel(ch.qos.logback.classic.Level.ERROR);
        try {
            return LokuConfig.load(config, System.getenv(), List.of(CONNECTION));
        } finally {
            log.setLevel(before);
        }
    }
}
