package dev.loku.runtime.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loku.runtime.config.RegistryConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A client for the Confluent Schema Registry REST protocol, on the JDK's HTTP client: the API that Confluent Schema
 * Registry, Confluent Cloud, Karapace and Apicurio's {@code /apis/ccompat/v7} all serve. What the serdes need
 * (register a schema under a subject, look one up, fetch a schema by the id in a record's header) plus the
 * compatibility configuration. Schemas by id are cached for the client's life: an id names one schema for ever.
 *
 * <p>Credentials (basic or bearer) and TLS trust come from the {@link RegistryConfig}. Errors are
 * {@link RegistryException}s that say what was asked, of which registry, and what it answered: subject names,
 * ids, HTTP status, the registry's error code and message. They carry schemas' names at most, never a record.
 */
public final class SchemaRegistryClient {

    /** A reference from one registered schema to another (Confluent's {@code references}). */
    public record Reference(String name, String subject, int version) {
    }

    /** A schema as the registry returns it; {@code version} is 0 where the call does not return one. */
    public record RegisteredSchema(int id, String schema, String schemaType, List<Reference> references, int version) {
    }

    /** The registry refused a call, or could not be reached; {@link #kind()} says which way. */
    public static final class RegistryException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /** What went wrong, in the terms a caller acts on. */
        public enum Kind {
            /** No answer (connection refused, time-out, TLS failure). */
            UNREACHABLE,
            /** 401 or 403: missing or wrong credentials, or not allowed. */
            UNAUTHORIZED,
            /** 404: unknown subject, version or schema id. */
            NOT_FOUND,
            /** 409: the schema breaks the subject's compatibility rule. */
            INCOMPATIBLE,
            /** 422: the registry refused the schema or a parameter as invalid. */
            INVALID,
            /** Any other answer. */
            FAILED
        }

        private final Kind kind;
        private final int status;
        private final int errorCode;

        RegistryException(Kind kind, int status, int errorCode, String message, Throwable cause) {
            super(message, cause);
            this.kind = kind;
            this.status = status;
            this.errorCode = errorCode;
        }

        public Kind kind() {
            return kind;
        }

        /** HTTP status (0 when there was no answer), e.g. 409 for an incompatible schema, 404 for an unknown id. */
        public int status() {
            return status;
        }

        /** The registry's {@code error_code} (e.g. 40403 schema not found), or 0 when it gave none. */
        public int errorCode() {
            return errorCode;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    private final RegistryConfig config;
    private final String baseUrl;
    private final String authorization;
    private final HttpClient http;
    private final Map<Integer, RegisteredSchema> byId = new ConcurrentHashMap<>();

    /** An anonymous client for a registry at {@code url} (tests, the embedded registry). */
    public SchemaRegistryClient(String url) {
        this(RegistryConfig.of(RegistryConfig.Api.CONFLUENT, url));
    }

    /**
     * @throws IllegalStateException when the configured trust store cannot be read (named, without its password)
     */
    public SchemaRegistryClient(RegistryConfig config) {
        this.config = config;
        String url = config.url().toString();
        this.baseUrl = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        if (config.basicAuthUserInfo() != null) {
            authorization = "Basic " + Base64.getEncoder().encodeToString(
                    config.basicAuthUserInfo().getBytes(StandardCharsets.UTF_8));
        } else if (config.bearerToken() != null) {
            authorization = "Bearer " + config.bearerToken();
        } else {
            authorization = null;
        }
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT);
        if (config.trustStore() != null) {
            b.sslContext(sslContext(config));
        }
        this.http = b.build();
    }

    private static SSLContext sslContext(RegistryConfig config) {
        try (InputStream in = Files.newInputStream(config.trustStore())) {
            KeyStore store = KeyStore.getInstance(config.trustStoreType());
            char[] password = config.trustStorePassword() == null ? null : config.trustStorePassword().toCharArray();
            store.load(in, password);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the registry trust store " + config.trustStore() + " ("
                    + config.trustStoreType() + "): " + e.getClass().getSimpleName()
                    + "; check registry.ssl.truststore.location, .type and .password", e);
        }
    }

    /** The registry this client talks to. */
    public RegistryConfig config() {
        return config;
    }

    /** The global compatibility level, e.g. {@code FULL_TRANSITIVE}. */
    public String globalCompatibility() {
        return call("GET", "/config", null).path("compatibilityLevel").asText();
    }

    /** Sets the global compatibility level every subject without its own inherits. */
    public void setGlobalCompatibility(String level) {
        call("PUT", "/config", Map.of("compatibility", level));
    }

    /** The subject's own compatibility level, or empty when it inherits the global one. */
    public Optional<String> subjectCompatibility(String subject) {
        try {
            String level = call("GET", "/config/" + encode(subject), null).path("compatibilityLevel").asText("");
            return level.isEmpty() ? Optional.empty() : Optional.of(level);
        } catch (RegistryException e) {
            if (e.kind() == RegistryException.Kind.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Sets the subject's own compatibility level. */
    public void setSubjectCompatibility(String subject, String level) {
        call("PUT", "/config/" + encode(subject), Map.of("compatibility", level));
    }

    /** Whether {@code avroSchema} may be registered under {@code subject} after its latest version. */
    public boolean isCompatible(String subject, String avroSchema) {
        return call("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest",
                Map.of("schema", avroSchema)).path("is_compatible").asBoolean();
    }

    /** All subjects. */
    public List<String> subjects() {
        List<String> out = new ArrayList<>();
        call("GET", "/subjects", null).forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The schema with id {@code id} (the id in the wire format); cached. */
    public RegisteredSchema schemaById(int id) {
        RegisteredSchema cached = byId.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode n = call("GET", "/schemas/ids/" + id, null);
        RegisteredSchema s = new RegisteredSchema(id, n.path("schema").asText(), n.path("schemaType").asText("AVRO"),
                references(n), 0);
        byId.put(id, s);
        return s;
    }

    /** The latest version registered under {@code subject}. */
    public RegisteredSchema latest(String subject) {
        return subjectVersion(call("GET", "/subjects/" + encode(subject) + "/versions/latest", null));
    }

    /**
     * Registers {@code avroSchema} under {@code subject}, or finds it there if it is registered already; returns its
     * id. A schema the subject's compatibility rule refuses is a {@link RegistryException.Kind#INCOMPATIBLE}.
     */
    public int register(String subject, String avroSchema) {
        int id = call("POST", "/subjects/" + encode(subject) + "/versions", Map.of("schema", avroSchema)).path("id").asInt();
        byId.putIfAbsent(id, new RegisteredSchema(id, avroSchema, "AVRO", List.of(), 0));
        return id;
    }

    /**
     * The id of {@code avroSchema} if it is registered under {@code subject} (without registering it), else a
     * {@link RegistryException.Kind#NOT_FOUND}.
     */
    public RegisteredSchema lookup(String subject, String avroSchema) {
        return subjectVersion(call("POST", "/subjects/" + encode(subject), Map.of("schema", avroSchema)));
    }

    private static RegisteredSchema subjectVersion(JsonNode n) {
        return new RegisteredSchema(n.path("id").asInt(), n.path("schema").asText(), n.path("schemaType").asText("AVRO"),
                references(n), n.path("version").asInt());
    }

    private static List<Reference> references(JsonNode n) {
        List<Reference> refs = new ArrayList<>();
        n.path("references").forEach(r -> refs.add(new Reference(r.path("name").asText(), r.path("subject").asText(),
                r.path("version").asInt())));
        return refs;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode call(String method, String path, Object body) {
        String what = method + " " + path + " at " + config.displayUrl();
        HttpResponse<String> resp;
        try {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(baseUrl + path))
                    .timeout(CALL_TIMEOUT)
                    .header("Accept", CONTENT_TYPE + ", application/json");
            if (authorization != null) {
                req.header("Authorization", authorization);
            }
            if (body == null) {
                req.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                req.header("Content-Type", CONTENT_TYPE)
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            }
            resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RegistryException(RegistryException.Kind.UNREACHABLE, 0, 0, "the schema registry did not answer "
                    + what + ": " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " (" + e.getMessage()
                    + ")") + "; check registry.url and that the registry is up", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException(RegistryException.Kind.UNREACHABLE, 0, 0, "interrupted while calling " + what, e);
        }
        int status = resp.statusCode();
        if (status / 100 != 2) {
            String message = "";
            int errorCode = 0;
            try {
                JsonNode err = JSON.readTree(resp.body());
                message = err.path("message").asText("");
                errorCode = err.path("error_code").asInt(0);
            } catch (IOException notJson) {
                // a proxy's HTML page: the status says enough
            }
            RegistryException.Kind kind = switch (status) {
                case 401, 403 -> RegistryException.Kind.UNAUTHORIZED;
                case 404 -> RegistryException.Kind.NOT_FOUND;
                case 409 -> RegistryException.Kind.INCOMPATIBLE;
                case 422 -> RegistryException.Kind.INVALID;
                default -> RegistryException.Kind.FAILED;
            };
            String hint = switch (kind) {
                case UNAUTHORIZED -> "; check registry.basic.auth.user.info or registry.bearer.token";
                case INCOMPATIBLE -> "; the subject's compatibility rule refuses this schema";
                default -> "";
            };
            throw new RegistryException(kind, status, errorCode, what + " -> HTTP " + status
                    + (errorCode == 0 ? "" : " error " + errorCode) + (message.isEmpty() ? "" : ": " + shorten(message))
                    + hint, null);
        }
        try {
            return resp.body().isBlank() ? JSON.nullNode() : JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new RegistryException(RegistryException.Kind.FAILED, status, 0, what + " -> HTTP " + status
                    + " with a body that is not JSON; is registry.url the registry's API?", e);
        }
    }

    /** Registries quote the whole schema in some messages; the first line is the reason. */
    private static String shorten(String message) {
        String m = message.strip();
        return m.length() <= 300 ? m : m.substring(0, 300) + "...";
    }

    /** For tests: the ids whose schema is cached. */
    Map<Integer, RegisteredSchema> cache() {
        return new LinkedHashMap<>(byId);
    }
}
