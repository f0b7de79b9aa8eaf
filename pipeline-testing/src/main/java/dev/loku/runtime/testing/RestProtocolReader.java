package dev.loku.runtime.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

/**
 * Reads a value the way any Confluent-protocol consumer would, sharing no code with the services' serdes: the
 * header by hand, {@code GET /schemas/ids/{id}} with the JDK's HTTP client and Jackson, and Avro's generic reader
 * with the writer's schema (no generated classes, no Apicurio or LoKU serde class). If the services' records
 * decode here, a consumer built on any Confluent-protocol client decodes them too.
 */
public final class RestProtocolReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String registryUrl;
    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<Integer, Schema> schemas = new HashMap<>();

    /** @param registryUrl a Confluent-protocol API, e.g. Apicurio's {@code .../apis/ccompat/v7} */
    public RestProtocolReader(String registryUrl) {
        this.registryUrl = registryUrl;
    }

    /** The record in {@code value}; throws AssertionError saying why when the bytes or the registry disagree. */
    public GenericRecord decode(byte[] value) {
        if (value == null || value.length < 5 || value[0] != 0) {
            throw new AssertionError("not magic byte 0 + 4-byte id: " + (value == null ? "null" : value.length + " bytes"));
        }
        int id = ByteBuffer.wrap(value, 1, 4).getInt();
        Schema writer = schemas.computeIfAbsent(id, this::fetch);
        try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null);
            GenericRecord record = new GenericDatumReader<GenericRecord>(writer).read(null, decoder);
            if (!decoder.isEnd()) {
                throw new AssertionError("bytes left after the record with schema id " + id);
            }
            return record;
        } catch (IOException e) {
            throw new AssertionError("the body does not decode with schema id " + id + ": " + e, e);
        }
    }

    /** Schemas fetched so far, by id. */
    public Map<Integer, Schema> schemas() {
        return Map.copyOf(schemas);
    }

    private Schema fetch(int id) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(registryUrl + "/schemas/ids/" + id))
                    .header("Accept", "application/vnd.schemaregistry.v1+json").GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("GET /schemas/ids/" + id + " -> HTTP " + r.statusCode() + ": " + r.body());
            }
            JsonNode n = JSON.readTree(r.body());
            if (n.has("references") && n.get("references").size() > 0) {
                throw new AssertionError("schema id " + id + " has references: " + n.get("references"));
            }
            return new Schema.Parser().parse(n.get("schema").asText());
        } catch (IOException e) {
            throw new AssertionError("GET /schemas/ids/" + id + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
