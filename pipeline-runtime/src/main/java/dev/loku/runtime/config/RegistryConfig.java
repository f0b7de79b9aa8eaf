package dev.loku.runtime.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Where the schema registry is and how to talk to it. By default through the Confluent Schema Registry REST
 * protocol, which Confluent Schema Registry, Confluent Cloud, Karapace and Apicurio's Confluent-compatible API
 * ({@code /apis/ccompat/v7}) all serve; Apicurio's own v3 API (through Apicurio's serdes) is the other choice.
 * Credentials are basic auth ({@code KEY:SECRET}, what Confluent Cloud issues) or a bearer token; TLS trust comes
 * from a trust store or, unset, the JVM's default trust.
 *
 * @param api               which REST protocol the registry is spoken to in
 * @param url               the API's base URL
 * @param basicAuthUserInfo {@code user:password} for HTTP basic auth, or null
 * @param bearerToken       a bearer token, or null
 * @param trustStore        trust store for an https registry, or null for the JVM's default trust
 * @param trustStorePassword its password, or null
 * @param trustStoreType    its format (PKCS12 or JKS)
 * @param autoRegister      whether producers register their schema (false: it must be registered already)
 */
public record RegistryConfig(Api api, URI url, String basicAuthUserInfo, String bearerToken, Path trustStore,
                             String trustStorePassword, String trustStoreType, boolean autoRegister) {

    /** The REST protocols the services can speak to a registry. */
    public enum Api {
        /** The Confluent Schema Registry protocol: Confluent SR and Cloud, Karapace, Apicurio's ccompat API. */
        CONFLUENT("confluent"),
        /** Apicurio Registry's own v3 API, through Apicurio's serdes. */
        APICURIO_V3("apicurio-v3");

        private final String configName;

        Api(String configName) {
            this.configName = configName;
        }

        /** The value of {@code registry.api}. */
        public String configName() {
            return configName;
        }

        static Api of(String name) {
            for (Api a : values()) {
                if (a.configName.equals(name.toLowerCase(Locale.ROOT))) {
                    return a;
                }
            }
            throw new IllegalArgumentException("unknown registry API " + name);
        }
    }

    public static final ConfigField<String> API = ConfigField.of("registry.api", ConfigType.STRING)
            .defaultValue(Api.CONFLUENT.configName())
            .validator(Validator.oneOf(List.of(Api.CONFLUENT.configName(), Api.APICURIO_V3.configName())))
            .description("REST protocol of the schema registry: confluent (Confluent Schema Registry and Cloud, "
                    + "Karapace, Apicurio's /apis/ccompat/v7) or apicurio-v3 (Apicurio's /apis/registry/v3).")
            .build();

    public static final ConfigField<URI> URL = ConfigField.of("registry.url", ConfigType.URI)
            .defaultValue(URI.create("http://localhost:8081"))
            .description("Base URL of the registry API chosen by registry.api: e.g. https://psrc-xxxxx.region.aws."
                    + "confluent.cloud, http://karapace:8081, http://apicurio:8080/apis/ccompat/v7, or for apicurio-v3 "
                    + "http://apicurio:8080/apis/registry/v3.")
            .build();

    public static final ConfigField<String> BASIC_AUTH_USER_INFO = ConfigField.of("registry.basic.auth.user.info", ConfigType.STRING)
            .optional()
            .secret()
            .description("HTTP basic credentials as user:password (Confluent Cloud: API key:API secret).")
            .build();

    public static final ConfigField<String> BEARER_TOKEN = ConfigField.of("registry.bearer.token", ConfigType.STRING)
            .optional()
            .secret()
            .description("A bearer token sent as Authorization: Bearer, instead of basic credentials.")
            .build();

    public static final ConfigField<Path> TRUSTSTORE_LOCATION = ConfigField.of("registry.ssl.truststore.location", ConfigType.PATH)
            .optional()
            .description("Trust store with the CA of an https registry's certificate; unset: the JVM's default trust.")
            .build();

    public static final ConfigField<String> TRUSTSTORE_PASSWORD = ConfigField.of("registry.ssl.truststore.password", ConfigType.STRING)
            .optional()
            .secret()
            .description("Password of the registry's trust store.")
            .build();

    public static final ConfigField<String> TRUSTSTORE_TYPE = ConfigField.of("registry.ssl.truststore.type", ConfigType.STRING)
            .defaultValue("PKCS12")
            .validator(Validator.oneOf(List.of("PKCS12", "JKS")))
            .description("Format of the registry's trust store.")
            .build();

    public static final ConfigField<Boolean> AUTO_REGISTER = ConfigField.of("registry.auto.register", ConfigType.BOOLEAN)
            .defaultValue(true)
            .description("Producers register their event schema under <topic>-value (the registry's compatibility "
                    + "rule refuses an incompatible one). false: schemas must be registered beforehand, as where "
                    + "the services' credentials may only read the registry.")
            .build();

    /** The fields, in documentation order. */
    public static final List<ConfigField<?>> FIELDS = List.of(API, URL, BASIC_AUTH_USER_INFO, BEARER_TOKEN,
            TRUSTSTORE_LOCATION, TRUSTSTORE_PASSWORD, TRUSTSTORE_TYPE, AUTO_REGISTER);

    public RegistryConfig {
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(url, "url");
        basicAuthUserInfo = blankToNull(basicAuthUserInfo);
        bearerToken = blankToNull(bearerToken);
        trustStorePassword = blankToNull(trustStorePassword);
        trustStore = trustStore == null || trustStore.toString().isEmpty() ? null : trustStore;
        trustStoreType = trustStoreType == null ? "PKCS12" : trustStoreType;
    }

    /** An anonymous registry over plain HTTP or publicly trusted TLS, producers auto-registering. */
    public static RegistryConfig of(Api api, String url) {
        return new RegistryConfig(api, URI.create(url), null, null, null, null, "PKCS12", true);
    }

    /**
     * Reads the fields, checking what no single field can (one kind of credential at most).
     *
     * @throws InvalidConfigException naming the fields
     */
    public static RegistryConfig from(LokuConfig config) {
        RegistryConfig c = new RegistryConfig(Api.of(config.get(API)), config.get(URL), config.get(BASIC_AUTH_USER_INFO),
                config.get(BEARER_TOKEN), config.get(TRUSTSTORE_LOCATION), config.get(TRUSTSTORE_PASSWORD),
                config.get(TRUSTSTORE_TYPE), config.get(AUTO_REGISTER));
        List<String> problems = new ArrayList<>();
        if (c.basicAuthUserInfo != null && c.bearerToken != null) {
            problems.add("set " + BASIC_AUTH_USER_INFO.name() + " or " + BEARER_TOKEN.name() + ", not both");
        }
        if (c.basicAuthUserInfo != null && c.basicAuthUserInfo.indexOf(':') < 0) {
            problems.add(BASIC_AUTH_USER_INFO.name() + " = (secret): not user:password (no ':')");
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigException("invalid schema registry configuration", problems);
        }
        return c;
    }

    /** The same registry spoken to through {@code api} at {@code url} (same credentials and trust). */
    public RegistryConfig at(Api api, URI url) {
        return new RegistryConfig(api, url, basicAuthUserInfo, bearerToken, trustStore, trustStorePassword,
                trustStoreType, autoRegister);
    }

    /** The URL without any user-info part, for messages. */
    public String displayUrl() {
        if (url.getRawUserInfo() == null) {
            return url.toString();
        }
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
                + (url.getRawPath() == null ? "" : url.getRawPath());
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** Names the API, URL and kind of credential; never the credential. */
    @Override
    public String toString() {
        return "RegistryConfig[api=" + api.configName() + ", url=" + displayUrl()
                + ", auth=" + (basicAuthUserInfo != null ? "basic" : bearerToken != null ? "bearer" : "none")
                + (trustStore == null ? "" : ", truststore=" + trustStore) + ", autoRegister=" + autoRegister + "]";
    }
}
