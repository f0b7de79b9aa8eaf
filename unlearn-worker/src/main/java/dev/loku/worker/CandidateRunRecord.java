package dev.loku.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.events.AdapterInitialization;
import dev.loku.events.ArtifactRef;
import dev.loku.events.EpochMetrics;
import dev.loku.events.UnlearningObjective;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * How a candidate was trained, stored inside the candidate's own model folder as {@value #FILE_NAME}, so a
 * published version carries its run with it. This is what makes a re-delivered job cheap and consistent: when the
 * job's candidate version is already published (a previous delivery trained and published it, then died before
 * committing, or a zombie and its replacement both trained), the worker announces the published candidate from this
 * record instead of training again. Versions are immutable and the first publication wins, so whichever run
 * published first is the one every later delivery describes. Ids, numbers and refs only.
 *
 * @param jobId           the job ({@code PipelineIds.jobId})
 * @param objective       the objective optimised
 * @param initialization  the adapter initialisation
 * @param hyperparameters profile and engine settings
 * @param seed            the run's seed
 * @param epochs          per-epoch metrics
 * @param stoppedAtEpoch  last epoch run
 * @param reachedThreshold whether the stop rule ended training
 * @param adapter         the adapter tree's ref
 * @param completedAt     when training finished
 */
public record CandidateRunRecord(UUID jobId, UnlearningObjective objective, AdapterInitialization initialization,
                                 Map<String, String> hyperparameters, long seed, List<EpochMetrics> epochs,
                                 int stoppedAtEpoch, boolean reachedThreshold, ArtifactRef adapter, Instant completedAt) {

    /** The record's file name in the model folder. */
    public static final String FILE_NAME = "loku-run.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    public CandidateRunRecord {
        hyperparameters = Map.copyOf(hyperparameters);
        epochs = List.copyOf(epochs);
    }

    public byte[] toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", "loku-run/1");
        n.put("jobId", jobId.toString());
        n.put("objective", objective.name());
        n.put("initialization", initialization.name());
        ObjectNode hp = n.putObject("hyperparameters");
        new TreeMap<>(hyperparameters).forEach(hp::put);
        n.put("seed", seed);
        ArrayNode list = n.putArray("epochs");
        for (EpochMetrics e : epochs) {
            ObjectNode o = list.addObject().put("epoch", e.getEpoch()).put("loss", e.getLoss())
                    .put("forgetMa", e.getForgetMa()).put("seconds", e.getSeconds());
            // EL_10 is NaN where the epoch did not measure it (stop-rule evaluation): null in JSON
            o.put("forgetEl10", Double.isNaN(e.getForgetEl10()) ? null : e.getForgetEl10());
            o.put("retainMa", e.getRetainMa());
            o.put("retainNll", e.getRetainNll());
        }
        n.put("stoppedAtEpoch", stoppedAtEpoch);
        n.put("reachedThreshold", reachedThreshold);
        n.putObject("adapter").put("uri", adapter.getUri()).put("sha256", adapter.getSha256())
                .put("sizeBytes", adapter.getSizeBytes());
        n.put("completedAt", completedAt.toEpochMilli());
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static CandidateRunRecord parse(byte[] json) throws IOException {
        JsonNode n = JSON.readTree(json);
        if (!"loku-run/1".equals(n.path("format").asText())) {
            throw new IOException(FILE_NAME + " has an unknown format");
        }
        Map<String, String> hp = new TreeMap<>();
        n.path("hyperparameters").properties().forEach(e -> hp.put(e.getKey(), e.getValue().asText()));
        List<EpochMetrics> epochs = new ArrayList<>();
        for (JsonNode e : n.path("epochs")) {
            epochs.add(new EpochMetrics(e.path("epoch").asInt(), e.path("loss").asDouble(), e.path("forgetMa").asDouble(),
                    e.path("forgetEl10").isNumber() ? e.path("forgetEl10").asDouble() : Double.NaN,
                    nullableDouble(e.get("retainMa")),
                    nullableDouble(e.get("retainNll")), e.path("seconds").asDouble()));
        }
        JsonNode a = n.path("adapter");
        return new CandidateRunRecord(UUID.fromString(n.path("jobId").asText()),
                UnlearningObjective.valueOf(n.path("objective").asText()),
                AdapterInitialization.valueOf(n.path("initialization").asText()), hp, n.path("seed").asLong(), epochs,
                n.path("stoppedAtEpoch").asInt(), n.path("reachedThreshold").asBoolean(),
                new ArtifactRef(a.path("uri").asText(), a.path("sha256").asText(), a.path("sizeBytes").asLong()),
                Instant.ofEpochMilli(n.path("completedAt").asLong()));
    }

    private static Double nullableDouble(JsonNode n) {
        return n == null || n.isNull() ? null : n.asDouble();
    }
}
