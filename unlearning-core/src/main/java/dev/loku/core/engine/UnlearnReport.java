package dev.loku.core.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.objective.UnlearningMethod;
import java.util.List;
import java.util.Map;

/**
 * What an unlearning run did, for people and for the pipeline's candidate event: hyper-parameters, seed, content
 * hashes (never content), the thresholds measured on the unseen set, every epoch from 0, and where it stopped
 * (docs/method.md §3.2 stop rule).
 *
 * @param stoppedAtEpoch the last epoch run: the first that met the stop rule, or maxEpochs
 * @param reachedThreshold whether forget MA and EL_10 both fell below the thresholds
 */
public record UnlearnReport(UnlearningMethod method, Map<String, String> hyperparameters, long seed, String baseModelSha256,
                            String forgetSha256, double thresholdMa, double thresholdEl10, List<EpochRecord> epochs,
                            int stoppedAtEpoch, boolean reachedThreshold) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public UnlearnReport {
        hyperparameters = Map.copyOf(hyperparameters);
        epochs = List.copyOf(epochs);
    }

    /**
     * The report as JSON with keys {@code method, hyperparameters, seed, base_model_sha256, forget_sha256,
     * thresholds {ma, el10}, epochs [{epoch, loss, forget_ma, forget_el10, retain_ma, retain_nll, seconds}],
     * stopped_at_epoch, reached_threshold}. Hyper-parameters are written in sorted key order; a number that is not
     * finite is written as null.
     */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("method", method.id());
        ObjectNode hp = root.putObject("hyperparameters");
        hyperparameters.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> hp.put(e.getKey(), e.getValue()));
        root.put("seed", seed);
        root.put("base_model_sha256", baseModelSha256);
        root.put("forget_sha256", forgetSha256);
        ObjectNode thresholds = root.putObject("thresholds");
        number(thresholds, "ma", thresholdMa);
        number(thresholds, "el10", thresholdEl10);
        ArrayNode list = root.putArray("epochs");
        for (EpochRecord e : epochs) {
            ObjectNode o = list.addObject();
            o.put("epoch", e.epoch());
            number(o, "loss", e.loss());
            number(o, "forget_ma", e.forgetMa());
            number(o, "forget_el10", e.forgetEl10());
            number(o, "retain_ma", e.retainMa());
            number(o, "retain_nll", e.retainNll());
            number(o, "seconds", e.seconds());
        }
        root.put("stopped_at_epoch", stoppedAtEpoch);
        root.put("reached_threshold", reachedThreshold);
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write the report as JSON", e);
        }
    }

    private static void number(ObjectNode o, String key, double value) {
        if (Double.isFinite(value)) {
            o.put(key, value);
        } else {
            o.putNull(key);
        }
    }
}
