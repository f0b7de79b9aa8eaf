package dev.loku.runtime.config;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import dev.loku.runtime.artifact.ArtifactRetry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The fields every service reads: where Kafka and the registry are and how to authenticate to them
 * ({@link KafkaSecurityConfig}, {@link RegistryConfig}), where the artifact store and the model catalogue are, and
 * how the service presents itself (HTTP port, instance id). A service's own config class reads these through
 * {@link #from(LokuConfig)} and adds its group of fields.
 *
 * @param bootstrapServers  Kafka's bootstrap servers
 * @param kafkaSecurity     protocol, SASL and TLS settings of every Kafka client
 * @param registry          the schema registry, its API and credentials
 * @param artifactsRoot     the artifact store's root folder
 * @param artifactRetry     how an artifact-store operation that failed with an I/O error is retried
 * @param keyStore          the data key store of crypto-shredding, shared by every service
 * @param modelsCatalogue   the model catalogue JSON file
 * @param httpPort          port of /health and /metrics (0: any free port)
 * @param instanceId        this instance's stable id (transactional ids, logs, audit {@code service})
 * @param provisionTopics   whether to create missing catalogue topics at start-up
 * @param kafkaOverrides    extra Kafka client settings from the file's {@code kafka.*} keys
 */
public record CommonConfig(List<String> bootstrapServers, KafkaSecurityConfig kafkaSecurity, RegistryConfig registry,
                           Path artifactsRoot, ArtifactRetry artifactRetry, KeyStoreConfig keyStore,
                           Path modelsCatalogue,
                           int httpPort, String instanceId, boolean provisionTopics,
                           Map<String, String> kafkaOverrides) {

    public static final ConfigField<List<String>> BOOTSTRAP_SERVERS = ConfigField.of("bootstrap.servers", ConfigType.LIST)
            .defaultValue(List.of("localhost:9092"))
            .validator(Validator.hostPortList())
            .description("Kafka brokers to bootstrap from.")
            .build();

    /** The registry's base URL (declared with the other registry fields). */
    public static final ConfigField<URI> REGISTRY_URL = RegistryConfig.URL;

    public static final ConfigField<Path> ARTIFACTS_ROOT = ConfigField.of("artifacts.root", ConfigType.PATH)
            .description("Root folder of the artifact store (content-addressed blobs, forget sets, model versions). "
                    + "It holds personal data until purged: put it on storage with the same protection as the "
                    + "request topic. Every service of one pipeline must see the same folder.")
            .build();

    public static final ConfigField<Integer> ARTIFACTS_RETRY_ATTEMPTS = ConfigField.of("artifacts.retry.attempts",
                    ConfigType.INT)
            .defaultValue(5)
            .validator(Validator.between(1, 100))
            .description("Tries in all of an artifact-store read or write that fails with an I/O error (store "
                    + "unwritable, full or unreachable for a moment); 1 turns retries off. When the last try fails "
                    + "the job is not failed: its runner waits (1 s, doubled up to 2 min) and runs it again. A "
                    + "missing or corrupt artifact is not retried.")
            .build();

    public static final ConfigField<Duration> ARTIFACTS_RETRY_BACKOFF = ConfigField.of("artifacts.retry.backoff",
                    ConfigType.DURATION)
            .defaultValue(Duration.ofMillis(500))
            .validator(Validator.positiveDuration())
            .description("Wait before the first retry of a failed artifact-store operation; doubled before each "
                    + "further one (the defaults wait 0.5 + 1 + 2 + 4 s in all).")
            .build();

    public static final ConfigField<Path> MODELS_CATALOGUE = ConfigField.of("models.catalogue", ConfigType.PATH)
            .description("The model catalogue (JSON): which models may be unlearned, by which tenants, with which "
                    + "data and unlearning profile (docs/pipeline.md).")
            .build();

    public static final ConfigField<Integer> HTTP_PORT = ConfigField.of("http.port", ConfigType.INT)
            .defaultValue(8080)
            .validator(Validator.between(0, 65535))
            .description("Port of the service's /health and /metrics endpoints; 0 picks a free port.")
            .build();

    public static final ConfigField<String> INSTANCE_ID = ConfigField.of("service.instance.id", ConfigType.STRING)
            .computedDefault(CommonConfig::hostName, "the host name")
            .validator(Validator.identifier())
            .description("Stable id of this instance: part of its Kafka transactional id and named in audit events. "
                    + "Keep it stable across restarts (a pod name) so a restarted instance fences its predecessor.")
            .build();

    public static final ConfigField<Boolean> PROVISION_TOPICS = ConfigField.of("topics.provision", ConfigType.BOOLEAN)
            .defaultValue(true)
            .description("Create missing catalogue topics at start-up (partitions and retention from the catalogue). "
                    + "Turn off where topics are managed by the platform.")
            .build();

    /** The common group; every service loads it. */
    public static final ConfigGroup GROUP = new ConfigGroup("common", "Every service", fields());

    private static List<ConfigField<?>> fields() {
        List<ConfigField<?>> f = new ArrayList<>();
        f.add(BOOTSTRAP_SERVERS);
        f.addAll(KafkaSecurityConfig.FIELDS);
        f.addAll(RegistryConfig.FIELDS);
        f.addAll(List.of(ARTIFACTS_ROOT, ARTIFACTS_RETRY_ATTEMPTS, ARTIFACTS_RETRY_BACKOFF));
        f.addAll(KeyStoreConfig.FIELDS);
        f.addAll(List.of(MODELS_CATALOGUE, HTTP_PORT, INSTANCE_ID, PROVISION_TOPICS));
        return f;
    }

    public CommonConfig {
        bootstrapServers = List.copyOf(bootstrapServers);
        kafkaOverrides = Map.copyOf(kafkaOverrides);
    }

    public static CommonConfig from(LokuConfig config) {
        return new CommonConfig(config.get(BOOTSTRAP_SERVERS), KafkaSecurityConfig.from(config),
                RegistryConfig.from(config), config.get(ARTIFACTS_ROOT),
                new ArtifactRetry(config.get(ARTIFACTS_RETRY_ATTEMPTS), config.get(ARTIFACTS_RETRY_BACKOFF)),
                KeyStoreConfig.from(config, config.get(ARTIFACTS_ROOT)),
                config.get(MODELS_CATALOGUE), config.get(HTTP_PORT), config.get(INSTANCE_ID),
                config.get(PROVISION_TOPICS), config.kafkaOverrides());
    }

    /**
     * {@code bootstrap.servers}, the security settings and the other {@code kafka.*} keys of the file: the base of
     * every client's properties, Kafka Streams' included. The typed security fields win over a raw key.
     */
    public Map<String, Object> kafkaClientBase() {
        Map<String, Object> m = new HashMap<>(kafkaOverrides);
        m.putAll(kafkaSecurity.clientSettings());
        m.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, String.join(",", bootstrapServers));
        return m;
    }

    /** The registry's base URL. */
    public URI registryUrl() {
        return registry.url();
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && env.matches("[A-Za-z0-9._-]{1,128}")) {
            return env;
        }
        try {
            String name = InetAddress.getLocalHost().getHostName();
            return name.matches("[A-Za-z0-9._-]{1,128}") ? name : "loku";
        } catch (UnknownHostException e) {
            return "loku";
        }
    }
}
