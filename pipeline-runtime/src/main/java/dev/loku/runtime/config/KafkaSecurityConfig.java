package dev.loku.runtime.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

/**
 * How every Kafka client of a service (producers, consumers, admin clients and Kafka Streams) authenticates to the
 * cluster and trusts it: security protocol, SASL mechanism and credentials, TLS trust and key stores. Typed fields,
 * so a secured cluster is configured by {@code LOKU_KAFKA_*} environment variables as well as by the file, and a
 * mistake (SASL without credentials, an unknown mechanism) fails at start-up naming the field. Secrets (JAAS,
 * passwords) are marked secret: masked in the config dump and in errors; Kafka's own config logging hides them too.
 *
 * <p>SASL credentials come either as a complete JAAS line ({@code kafka.sasl.jaas.config}, any login module) or as
 * {@code kafka.sasl.username} + {@code kafka.sasl.password}, from which the PLAIN or SCRAM login module line is
 * built (what Confluent Cloud's API key and secret are).
 */
public record KafkaSecurityConfig(String securityProtocol, String saslMechanism, String saslJaasConfig,
                                  String saslUsername, String saslPassword, Path trustStore, String trustStorePassword,
                                  String trustStoreType, Path keyStore, String keyStorePassword, String keyStoreType,
                                  String keyPassword) {

    static final List<String> PROTOCOLS = List.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    static final List<String> MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER");
    static final List<String> STORE_TYPES = List.of("PKCS12", "JKS", "PEM");

    public static final ConfigField<String> SECURITY_PROTOCOL = ConfigField.of("kafka.security.protocol", ConfigType.STRING)
            .defaultValue("PLAINTEXT")
            .validator(Validator.oneOf(PROTOCOLS))
            .description("Protocol of every Kafka client: SASL_SSL for Confluent Cloud and most secured clusters.")
            .build();

    public static final ConfigField<String> SASL_MECHANISM = ConfigField.of("kafka.sasl.mechanism", ConfigType.STRING)
            .defaultValue("PLAIN")
            .validator(Validator.oneOf(MECHANISMS))
            .description("SASL mechanism when the protocol is SASL_*.")
            .build();

    public static final ConfigField<String> SASL_JAAS_CONFIG = ConfigField.of("kafka.sasl.jaas.config", ConfigType.STRING)
            .optional()
            .secret()
            .description("The complete JAAS login line (any login module, e.g. OAUTHBEARER). Takes precedence over "
                    + "kafka.sasl.username and kafka.sasl.password.")
            .build();

    public static final ConfigField<String> SASL_USERNAME = ConfigField.of("kafka.sasl.username", ConfigType.STRING)
            .optional()
            .description("SASL user (PLAIN or SCRAM; Confluent Cloud: the API key); with kafka.sasl.password it "
                    + "builds the JAAS line.")
            .build();

    public static final ConfigField<String> SASL_PASSWORD = ConfigField.of("kafka.sasl.password", ConfigType.STRING)
            .optional()
            .secret()
            .description("SASL password (Confluent Cloud: the API secret).")
            .build();

    public static final ConfigField<Path> TRUSTSTORE_LOCATION = ConfigField.of("kafka.ssl.truststore.location", ConfigType.PATH)
            .optional()
            .description("Trust store with the CA that signed the brokers' certificates; unset: the JVM's default "
                    + "trust (enough for public CAs such as Confluent Cloud's).")
            .build();

    public static final ConfigField<String> TRUSTSTORE_PASSWORD = ConfigField.of("kafka.ssl.truststore.password", ConfigType.STRING)
            .optional()
            .secret()
            .description("Password of the trust store.")
            .build();

    public static final ConfigField<String> TRUSTSTORE_TYPE = ConfigField.of("kafka.ssl.truststore.type", ConfigType.STRING)
            .defaultValue("PKCS12")
            .validator(Validator.oneOf(STORE_TYPES))
            .description("Format of the trust store.")
            .build();

    public static final ConfigField<Path> KEYSTORE_LOCATION = ConfigField.of("kafka.ssl.keystore.location", ConfigType.PATH)
            .optional()
            .description("Key store with this client's certificate, for clusters that authenticate clients by TLS "
                    + "(mTLS, Strimzi's tls users).")
            .build();

    public static final ConfigField<String> KEYSTORE_PASSWORD = ConfigField.of("kafka.ssl.keystore.password", ConfigType.STRING)
            .optional()
            .secret()
            .description("Password of the key store.")
            .build();

    public static final ConfigField<String> KEYSTORE_TYPE = ConfigField.of("kafka.ssl.keystore.type", ConfigType.STRING)
            .defaultValue("PKCS12")
            .validator(Validator.oneOf(STORE_TYPES))
            .description("Format of the key store.")
            .build();

    public static final ConfigField<String> KEY_PASSWORD = ConfigField.of("kafka.ssl.key.password", ConfigType.STRING)
            .optional()
            .secret()
            .description("Password of the private key in the key store, where it differs from the store's.")
            .build();

    /** The fields, in documentation order. */
    public static final List<ConfigField<?>> FIELDS = List.of(SECURITY_PROTOCOL, SASL_MECHANISM, SASL_JAAS_CONFIG,
            SASL_USERNAME, SASL_PASSWORD, TRUSTSTORE_LOCATION, TRUSTSTORE_PASSWORD, TRUSTSTORE_TYPE, KEYSTORE_LOCATION,
            KEYSTORE_PASSWORD, KEYSTORE_TYPE, KEY_PASSWORD);

    /** No security: what a development broker speaks. */
    public static final KafkaSecurityConfig PLAINTEXT = new KafkaSecurityConfig("PLAINTEXT", "PLAIN", null, null, null,
            null, null, "PKCS12", null, null, "PKCS12", null);

    public KafkaSecurityConfig {
        saslJaasConfig = blankToNull(saslJaasConfig);
        saslUsername = blankToNull(saslUsername);
        saslPassword = blankToNull(saslPassword);
        trustStorePassword = blankToNull(trustStorePassword);
        keyStorePassword = blankToNull(keyStorePassword);
        keyPassword = blankToNull(keyPassword);
        trustStore = emptyToNull(trustStore);
        keyStore = emptyToNull(keyStore);
    }

    /** SASL/PLAIN or SCRAM with a user and password (what tests and Confluent Cloud use). */
    public static KafkaSecurityConfig sasl(String protocol, String mechanism, String username, String password) {
        return new KafkaSecurityConfig(protocol, mechanism, null, username, password, null, null, "PKCS12", null, null,
                "PKCS12", null);
    }

    /**
     * Reads the fields, checking what no single field can: SASL needs credentials, a user needs a password.
     *
     * @throws InvalidConfigException naming the fields
     */
    public static KafkaSecurityConfig from(LokuConfig config) {
        KafkaSecurityConfig c = new KafkaSecurityConfig(config.get(SECURITY_PROTOCOL), config.get(SASL_MECHANISM),
                config.get(SASL_JAAS_CONFIG), config.get(SASL_USERNAME), config.get(SASL_PASSWORD),
                config.get(TRUSTSTORE_LOCATION), config.get(TRUSTSTORE_PASSWORD), config.get(TRUSTSTORE_TYPE),
                config.get(KEYSTORE_LOCATION), config.get(KEYSTORE_PASSWORD), config.get(KEYSTORE_TYPE),
                config.get(KEY_PASSWORD));
        List<String> problems = c.problems();
        if (!problems.isEmpty()) {
            throw new InvalidConfigException("invalid Kafka security configuration", problems);
        }
        return c;
    }

    /** What is inconsistent between the fields, one sentence each (empty when fine). */
    List<String> problems() {
        List<String> p = new ArrayList<>();
        if (sasl()) {
            if (saslJaasConfig == null && (saslUsername == null || saslPassword == null)) {
                p.add(SECURITY_PROTOCOL.name() + " is " + securityProtocol + ": set " + SASL_JAAS_CONFIG.name() + " (or "
                        + SASL_JAAS_CONFIG.envVar() + "), or both " + SASL_USERNAME.name() + " and " + SASL_PASSWORD.name());
            }
            if (saslJaasConfig == null && saslMechanism.equals("OAUTHBEARER")) {
                p.add(SASL_MECHANISM.name() + " is OAUTHBEARER: its login module needs " + SASL_JAAS_CONFIG.name()
                        + " (a user and password do not make one)");
            }
        } else if (saslJaasConfig != null || saslUsername != null || saslPassword != null) {
            p.add("SASL credentials are set but " + SECURITY_PROTOCOL.name() + " is " + securityProtocol
                    + ", which does not use them: use SASL_SSL or SASL_PLAINTEXT");
        }
        if ((saslUsername == null) != (saslPassword == null) && saslJaasConfig == null) {
            p.add(SASL_USERNAME.name() + " and " + SASL_PASSWORD.name() + " go together: set both or neither");
        }
        return p;
    }

    private boolean sasl() {
        return securityProtocol.startsWith("SASL_");
    }

    /** The Kafka client settings these fields stand for, to merge into every client's properties. */
    public Map<String, Object> clientSettings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, securityProtocol);
        if (sasl()) {
            m.put(SaslConfigs.SASL_MECHANISM, saslMechanism);
            m.put(SaslConfigs.SASL_JAAS_CONFIG, saslJaasConfig != null ? saslJaasConfig : jaasLine());
        }
        if (trustStore != null) {
            m.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, trustStore.toString());
            m.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, trustStoreType);
            if (trustStorePassword != null) {
                m.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, trustStorePassword);
            }
        }
        if (keyStore != null) {
            m.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, keyStore.toString());
            m.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, keyStoreType);
            if (keyStorePassword != null) {
                m.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, keyStorePassword);
            }
            if (keyPassword != null) {
                m.put(SslConfigs.SSL_KEY_PASSWORD_CONFIG, keyPassword);
            }
        }
        return m;
    }

    /** The PLAIN or SCRAM login line for the user and password. */
    private String jaasLine() {
        String module = saslMechanism.startsWith("SCRAM-")
                ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                : "org.apache.kafka.common.security.plain.PlainLoginModule";
        return module + " required username=\"" + jaasQuoted(saslUsername) + "\" password=\"" + jaasQuoted(saslPassword)
                + "\";";
    }

    private static String jaasQuoted(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** An empty value (a variable set to "") means unset. */
    private static Path emptyToNull(Path p) {
        return p == null || p.toString().isEmpty() ? null : p;
    }

    /** Names the protocol, mechanism, user and stores; never a password or JAAS line. */
    @Override
    public String toString() {
        return "KafkaSecurityConfig[protocol=" + securityProtocol + (sasl() ? ", mechanism=" + saslMechanism
                + ", user=" + (saslUsername == null ? "(from JAAS)" : saslUsername) : "")
                + (trustStore == null ? "" : ", truststore=" + trustStore)
                + (keyStore == null ? "" : ", keystore=" + keyStore) + "]";
    }
}
