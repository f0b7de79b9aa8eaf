package dev.loku.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.tokenizer.TextTokenizer;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku lm score}: tokenize a text (with BOS), report its mean negative log-likelihood per predicted token and
 * the logits after its last token. With {@code --json} stdout holds exactly one JSON object:
 * {@code {"ids":[...], "mean_nll": x, "last_logits":[...]}} ({@code mean_nll} is null when the text is empty).
 */
@Command(name = "score", description = "Mean NLL (nats per predicted token) and next-token logits of a text.")
final class LmScoreCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--text", required = true, description = "The text to score (BOS is prepended).")
    String text;

    @Option(names = "--json", description = "Print one JSON object instead of a summary.")
    boolean json;

    @Override
    public void run() {
        try (CausalLm model = modelOptions.load(); NDManager m = NDManager.newBaseManager(model.device())) {
            TextTokenizer tok = model.tokenizer();
            int[] ids = tok.encode(text, true);
            TokenBatch batch = TokenBatch.of(List.of(ids), TokenBatch.Padding.RIGHT, tok.padId());
            float[] last = model.logits(m, batch).get(new NDIndex("0, {}, :", ids.length - 1)).toFloatArray();
            Double nll = batch.targetCount() == 0 ? null : (double) model.meanNll(m, batch).getFloat();
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectNode o = CliJson.MAPPER.createObjectNode();
                ArrayNode idArray = o.putArray("ids");
                for (int id : ids) {
                    idArray.add(id);
                }
                if (nll == null) {
                    o.putNull("mean_nll");
                } else {
                    o.put("mean_nll", nll);
                }
                ArrayNode logits = o.putArray("last_logits");
                for (float v : last) {
                    logits.add(v);
                }
                out.println(CliJson.write(o));
            } else {
                out.printf(Locale.ROOT, "tokens: %d (with BOS)%n", ids.length);
                if (nll != null) {
                    out.printf(Locale.ROOT, "mean NLL: %.4f nats/token over %d predicted tokens (perplexity %.2f)%n",
                            nll, ids.length - 1, Math.exp(nll));
                } else {
                    out.println("mean NLL: undefined (no token after BOS to predict)");
                }
                out.println("most likely next tokens:");
                for (int id : topK(last, 5)) {
                    out.printf(Locale.ROOT, "  %6d  %-16s logit %.4f%n", id, quoted(tok.decode(new int[] {id})),
                            last[id]);
                }
            }
            out.flush();
        }
    }

    static int[] topK(float[] values, int k) {
        int[] best = new int[Math.min(k, values.length)];
        boolean[] used = new boolean[values.length];
        for (int j = 0; j < best.length; j++) {
            int arg = -1;
            for (int i = 0; i < values.length; i++) {
                if (!used[i] && (arg < 0 || values[i] > values[arg])) {
                    arg = i;
                }
            }
            used[arg] = true;
            best[j] = arg;
        }
        return best;
    }

    static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + "\"";
    }
}
