package dev.loku.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.cli.ExperimentResults.MethodRun;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The memorisation experiment over several seeds: one {@link ExperimentResults} per seed (its own people, forget
 * split, fine-tune and runs) and, per method, the mean and spread of what the table reports.
 */
record MemorisationSeeds(List<ExperimentResults> seeds, double totalSeconds) {

    MemorisationSeeds {
        seeds = List.copyOf(seeds);
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("at least one seed");
        }
    }

    /** The method labels, in run order (every seed runs the same methods). */
    List<String> labels() {
        return seeds.get(0).runs().stream().map(MethodRun::label).toList();
    }

    /** The run of {@code label} in every seed, in seed order. */
    List<MethodRun> runsOf(String label) {
        List<MethodRun> out = new ArrayList<>();
        for (ExperimentResults r : seeds) {
            r.runs().stream().filter(m -> m.label().equals(label)).findFirst().ifPresent(out::add);
        }
        return out;
    }

    /** Mean and sample standard deviation (0 for one value) of a per-seed number. */
    record Spread(double mean, double sd, double min, double max, int n) {
        static Spread of(double[] values) {
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (double v : values) {
                sum += v;
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            double mean = sum / values.length;
            double sq = 0;
            for (double v : values) {
                sq += (v - mean) * (v - mean);
            }
            double sd = values.length > 1 ? Math.sqrt(sq / (values.length - 1)) : 0;
            return new Spread(mean, sd, min, max, values.length);
        }
    }

    static <T> Spread spread(List<T> items, ToDoubleFunction<T> f) {
        return Spread.of(items.stream().mapToDouble(f).toArray());
    }

    String toJson() {
        ObjectNode root = CliJson.MAPPER.createObjectNode();
        ArrayNode list = root.putArray("seeds");
        try {
            for (ExperimentResults r : seeds) {
                JsonNode one = CliJson.MAPPER.readTree(r.toJson());
                list.add(one);
            }
            ObjectNode summary = root.putObject("summary");
            for (String label : labels()) {
                List<MethodRun> runs = runsOf(label);
                ObjectNode o = summary.putObject(label);
                o.put("seeds", runs.size());
                o.put("reached_threshold", runs.stream().filter(MethodRun::reachedThreshold).count());
                spreadNode(o.putObject("stopped_at_epoch"), spread(runs, MethodRun::stoppedAtEpoch));
                spreadNode(o.putObject("forget_ma_after"), spread(runs, m -> m.last().forgetMa()));
                spreadNode(o.putObject("forget_el10_after"), spread(runs, m -> m.last().forgetEl10()));
                spreadNode(o.putObject("retain_ma_drop"), spread(runs, m -> m.first().retainMa() - m.last().retainMa()));
            }
            root.put("total_seconds", totalSeconds);
            return CliJson.MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void spreadNode(ObjectNode o, Spread s) {
        CliJson.number(o, "mean", s.mean());
        CliJson.number(o, "sd", s.sd());
        CliJson.number(o, "min", s.min());
        CliJson.number(o, "max", s.max());
    }
}
