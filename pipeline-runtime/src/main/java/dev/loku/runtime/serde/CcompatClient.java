package dev.loku.runtime.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A small client for the registry's Confluent-compatible REST API ({@code /apis/ccompat/v7}): the API any Confluent
 * client uses, so what this sees is what they see. Used to set the compatibility rule and by tests that check the
 * wire format; services themselves go through the serdes.
 */
public final class CcompatClient {

    /** A reference from one registered schema to another (Confluent's {@code references}). */
    public record Reference(String name, String subject, int version) {
    }

    /** A schema as the API returns it. */
    public record RegisteredSchema(int id, String schema, String schemaType, List<Reference> references) {
    }

    /** The registry refused a request (HTTP status and the registry's message). */
    public static final class RegistryException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        RegistryException(int status, String message) {
            super(message);
            this.status = status;
        }

        /** HTTP status, e.g. 409 for an incompatible schema, 404 for an unknown id or subject. */
        public int status() {
            return status;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private final String baseUrl;
    private final HttpClient http;

    /** @param ccompatUrl e.g. {@code http://localhost:8080/apis/ccompat/v7} */
    public CcompatClient(String ccompatUrl) {
        this.baseUrl = ccompatUrl.endsWith("/") ? ccompatUrl.substring(0, ccompatUrl.length() - 1) : ccompatUrl;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The global compatibility level, e.g. {@code FULL_TRANSITIVE}. */
    public String globalCompatibility() {
        return call("GET", "/config", null).path("compatibilityLevel").asText();
    }

    /** Sets the global compatibility level every subject inherits. */
    public void setGlobalCompatibility(String level) {
        call("PUT", "/config", Map.of("compatibility", level));
    }

    /** All subjects. */
    public List<String> subjects() {
        List<String> out = new ArrayList<>();
        call("GET", "/subjects", null).forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The schema with Confluent schema id {@code id} (the id in the wire format). */
    public RegisteredSchema schemaById(int id) {
        JsonNode n = call("GET", "/schemas/ids/" + id, null);
        return new RegisteredSchema(id, n.path("schema").asText(), n.path("schemaType").asText("AVRO"), references(n));
    }

    /** The latest version registered under {@code subject}. */
    public RegisteredSchema latest(String subject) {
        JsonNode n = call("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
        return new RegisteredSchema(n.path("id").asInt(), n.path("schema").asText(), n.path("schemaType").asText("AVRO"),
                references(n));
    }

    /** Registers {@code avroSchema} under {@code subject}; returns its id. 409 if it breaks the compatibility rule. */
    public int register(String subject, String avroSchema) {
        return call("POST", "/subjects/" + encode(subject) + "/versions", Map.of("schema", avroSchema)).path("id").asInt();
    }

    private static List<Reference> references(JsonNode n) {
        List<Reference> refs = new ArrayList<>();
        n.path("references").forEach(r -> refs.add(new Reference(r.path("name").asText(), r.path("subject").asText(),
                r.path("version").asInt())));
        return refs;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private JsonNode call(String method, String path, Object body) {
        try {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(baseUrl + path))
                    .timeout(Duration.ofSeconds(30))
                    .header("Accept", CONTENT_TYPE + ", application/json");
            if (body == null) {
                req.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                req.header("Content-Type", CONTENT_TYPE)
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            }
            HttpResponse<String> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() / 100 != 2) {
                String message = resp.body();
                try {
                    message = JSON.readTree(resp.body()).path("message").asText(resp.body());
                } catch (IOException notJson) {
                    // keep the raw body
                }
                throw new RegistryException(resp.statusCode(), method + " " + path + " -> HTTP " + resp.statusCode()
                        + ": " + message);
            }
            return resp.body().isBlank() ? JSON.nullNode() : JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new IllegalStateException("the schema registry at " + baseUrl + " did not answer " + method + " " + path
                    + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling the schema registry", e);
        }
    }
}
