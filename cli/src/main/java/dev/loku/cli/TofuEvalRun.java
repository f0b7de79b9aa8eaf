package dev.loku.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.data.QaTemplate;
import dev.loku.core.tofu.TofuEvaluator;
import dev.loku.core.tofu.TofuMetrics;
import dev.loku.core.tofu.TofuSplit;
import dev.loku.core.tofu.TofuSplitScores;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;

/**
 * {@code loku eval --tofu}: one model's TOFU numbers (docs/method.md §5.2) on the forget split, the retain set, real
 * authors and world facts, and the model utility over the last three. With {@code --retain-model}, the two-sample KS
 * p-value of the forget split's truth ratios under this model and under the retain model. TOFU calls that p-value
 * forget quality when the ratios come from its own perturbed answers; the shipped forget split has substitutes, so
 * it is reported as {@code forget_truth_ratio_ks_p} with {@code substituted: true}, never as forget quality.
 *
 * <p>With {@code --json}, stdout holds one object: {@code model, forget_split, max_new_tokens,
 * splits: {name: {kind, items, substituted, probability, rouge_l, truth_ratio}}, model_utility} and, with a retain
 * model, {@code forget_truth_ratio_ks_p}.
 */
final class TofuEvalRun {

    private TofuEvalRun() {
    }

    static void run(CommandLine cli, ModelOptions model, TofuEvalOptions o, boolean json) {
        o.check();
        List<TofuSplit> splits = o.splits();
        TofuEvaluator evaluator = new TofuEvaluator(QaTemplate.PLAIN, TofuEvaluator.DEFAULT_MAX_LENGTH,
                o.maxNewTokens, TofuEvaluator.DEFAULT_BATCH_SIZE, TofuEvaluator.DEFAULT_GENERATION_BATCH);
        UnlearningEngine engine = new UnlearningEngine(DataFiles.device(model.device));
        TofuEvaluator.Progress progress = o.progress ? printer(System.err) : TofuEvaluator.Progress.none();
        List<TofuSplitScores> scores = DataFiles.run(() -> engine.evaluateTofu(model.model, splits, evaluator,
                progress));
        Double ksP = null;
        if (o.retainModel != null) {
            TofuSplitScores reference = DataFiles.run(() -> engine.evaluateTofu(o.retainModel, splits.subList(0, 1),
                    evaluator, progress)).get(0);
            ksP = TofuMetrics.truthRatioKsPValue(scores.get(0), reference);
        }
        double utility = TofuMetrics.modelUtility(scores.subList(1, scores.size()));
        PrintWriter out = cli.getOut();
        if (json) {
            ObjectNode root = CliJson.MAPPER.createObjectNode();
            root.put("model", model.model.toString());
            root.put("forget_split", splits.get(0).name());
            root.put("max_new_tokens", o.maxNewTokens);
            ObjectNode byName = root.putObject("splits");
            for (TofuSplitScores s : scores) {
                ObjectNode n = byName.putObject(s.name());
                n.put("kind", s.kind().name());
                n.put("items", s.size());
                n.put("substituted", s.substituted());
                CliJson.number(n, "probability", s.probability());
                CliJson.number(n, "rouge_l", s.rougeL());
                CliJson.number(n, "truth_ratio", s.truthRatio());
            }
            CliJson.number(root, "model_utility", utility);
            if (ksP != null) {
                CliJson.number(root, "forget_truth_ratio_ks_p", ksP);
            }
            out.println(CliJson.write(root));
        } else {
            out.printf(Locale.ROOT, "%-14s %6s %11s %8s %11s  %s%n", "split", "items", "probability", "ROUGE-L",
                    "truth ratio", "answers");
            for (TofuSplitScores s : scores) {
                out.printf(Locale.ROOT, "%-14s %6d %11.4f %8.4f %11.4f  %s%n", s.name(), s.size(), s.probability(),
                        s.rougeL(), s.truthRatio(), s.substituted() ? "substitute perturbations" : "TOFU's own");
            }
            out.printf(Locale.ROOT, "model utility (retain, real authors, world facts): %.4f%n", utility);
            if (ksP != null) {
                out.printf(Locale.ROOT, "KS p-value of the forget split's truth ratios vs the retain model: %.4g%s%n",
                        ksP, scores.get(0).substituted() ? " (on substitute perturbations: not TOFU's forget quality)"
                                : " (TOFU's forget quality)");
            }
        }
        out.flush();
    }

    /** One line per split when it is done (generation included), on {@code err}. */
    private static TofuEvaluator.Progress printer(PrintStream err) {
        return (split, done, total) -> {
            if (done == total) {
                err.printf(Locale.ROOT, "event=tofu_split_scored split=%s units=%d%n", split, total);
                err.flush();
            }
        };
    }
}
