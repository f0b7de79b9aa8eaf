package dev.loku.cli;

import dev.loku.cli.ExperimentChart.Series;
import dev.loku.cli.TofuExperimentResults.Base;
import dev.loku.cli.TofuExperimentResults.Point;
import dev.loku.cli.TofuExperimentResults.Run;
import dev.loku.cli.TofuExperimentResults.Setup;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.tofu.TofuData;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.DoubleFunction;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/**
 * The TOFU experiment as Markdown and PNG: the tables, the per-epoch chart of the forget truth-ratio KS p-value and
 * model utility (as the paper plots forget quality against utility), and an account of the numbers generated from
 * the numbers themselves.
 */
final class TofuExperimentPage {

    /** log10 of the smallest KS p-value the chart shows; smaller ones sit on the axis. */
    static final double LOG_P_FLOOR = -12;

    private TofuExperimentPage() {}

    /** One row per run of one split: the KS p-value and model utility before → after the last epoch, and the best. */
    static String table(TofuExperimentResults results, List<Run> runs) {
        StringBuilder sb = new StringBuilder();
        sb.append("| Method | Forget TR KS p (epoch 0 → last) | best epoch: KS p | Model utility† (epoch 0 → last)"
                + " | Retain utility‡ (epoch 0 → last) | Forget prob | Forget ROUGE-L | Retain ROUGE-L | Time |\n");
        sb.append("|---|---|---|---|---|---|---|---|---:|\n");
        for (Run r : runs) {
            Point first = r.points().get(0);
            Point last = r.last();
            Point best = best(r);
            sb.append("| ").append(r.label())
                    .append(" | ").append(p(first.forgetKsP())).append(" → ").append(p(last.forgetKsP()))
                    .append(" | ").append(best.epoch()).append(": ").append(p(best.forgetKsP()))
                    .append(" | ").append(f3(first.modelUtility())).append(" → ").append(f3(last.modelUtility()))
                    .append(" | ").append(f3(first.retainUtility())).append(" → ").append(f3(last.retainUtility()))
                    .append(" | ").append(f3(first.forget().probability())).append(" → ")
                    .append(f3(last.forget().probability()))
                    .append(" | ").append(f3(first.forget().rougeL())).append(" → ").append(f3(last.forget().rougeL()))
                    .append(" | ").append(f3(first.retain().rougeL())).append(" → ").append(f3(last.retain().rougeL()))
                    .append(String.format(Locale.ROOT, " | %.0f s |\n", r.seconds()));
        }
        return sb.toString();
    }

    /** The epoch (after 0) whose KS p-value is highest: the checkpoint TOFU users would pick for forgetting. */
    static Point best(Run r) {
        return r.points().stream().skip(1).max(Comparator.comparingDouble(Point::forgetKsP)).orElse(r.last());
    }

    static String document(TofuExperimentResults results, String reproduceCommand, String chartFile, String jsonFile) {
        Setup s = results.setup();
        StringBuilder sb = new StringBuilder();
        sb.append("# TOFU experiment: forgetting fictitious authors\n\n");
        sb.append("This page is written by `loku experiment tofu`; rerunning the command below regenerates it, the chart"
                + " and the raw numbers (`").append(jsonFile).append("`). Every figure on it is measured, none is"
                + " typed in. The metrics are defined in [the TOFU metrics page](../tofu-metrics.md).\n\n");
        sb.append("## Setup\n\n");
        sb.append(String.format(Locale.ROOT, "- **Model:** `%s` (stories260K, 260K parameters, vocabulary 512), run on"
                + " %s with %d cores.\n", s.model(), s.device(), s.threads()));
        sb.append(String.format(Locale.ROOT, "- **Full and retain models:** the shipped model fully fine-tuned on"
                        + " the first %d questions of each of TOFU's forget10 authors (20 authors) and of the 15"
                        + " retain authors of `data/tofu` — the *full* model, %.0f s — and on those retain questions"
                        + " alone — the *retain* model, %.0f s — each for %d epochs (AdamW, lr %s, one epoch of"
                        + " warm-up then linear decay, batch %d, template `Question: …\\nAnswer: …`, loss on the"
                        + " answer only).\n", s.qaPerAuthor(), s.fullSeconds(), s.retainSeconds(), s.finetuneEpochs(),
                ExperimentTable.lr(s.finetuneLr()), s.finetuneBatch()));
        sb.append(String.format(Locale.ROOT, "- **Unlearning:** from the full model, each forget split (forget01 = 2"
                        + " authors, forget05 = 10, forget10 = 20; their trained questions) with GA, GD, NPO, IDK (refusal answers"
                        + " from `data/tofu/idontknow.jsonl`) and IHL, each with plain LoRA and with FILA (rank %d,"
                        + " alpha %d, every projection; FILA's Fisher pass on the split and as many retain QA) on"
                        + " TOFU's recipe: %d epochs (TOFU runs 5), one AdamW step (weight decay 0.01) per %d forget"
                        + " QA paired with %d random retain QA, lr %s warming up over the first epoch and decaying"
                        + " linearly to 0, no stop rule, seed %d.\n", s.rank(), 2 * s.rank(), s.epochs(), s.batch(),
                s.batch(), ExperimentTable.lr(s.learningRate()), s.seed()));
        sb.append(String.format(Locale.ROOT, "- **Evaluation** after every epoch: every question of the forget"
                        + " split, the first %d retain questions of each retain author, the first %d real-authors"
                        + " and %d world-facts questions; greedy answers of at most %d tokens for ROUGE-L. Epoch 0 is"
                        + " the full model's own score.\n", s.evalPerAuthor(), s.realWorldItems(),
                s.realWorldItems(), s.maxNewTokens()));
        sb.append("- **Substitutes, named as such.** The shipped data has no paraphrased or perturbed answers for"
                + " forget and retain questions, so their truth ratio compares the true answer with three other"
                + " answers about the same author. **Forget TR KS p** is the KS test of the forget split's truth"
                + " ratios under the unlearned model against the retain model's — TOFU's forget quality computed on"
                + " that substitute ratio, not TOFU's forget quality itself. **Model utility†** is TOFU's harmonic mean"
                + " of nine numbers, eight of them as TOFU computes them and the retain truth ratio on the"
                + " substitute. **Retain utility‡** is not a TOFU metric: the harmonic mean of the retain split's"
                + " three numbers alone (answer probability, ROUGE-L, substitute truth ratio), shown because the"
                + " real-authors and world-facts numbers can be 0 at this scale and then hold model utility† at 0.\n");
        sb.append("- **How it was sized:** TOFU's 20 questions per author, 5 epochs and full evaluation sets would"
                + " take hours on 2 CPU cores (30 runs, and every epoch of every run scores every split and"
                + " generates every answer; a fine-tuning step on long TOFU answers costs seconds here). The"
                + " questions per author, the epochs, the utility subsets and the answer length above are the"
                + " knobs; the command's defaults are the ones this page was made with.\n\n");

        sb.append("## Results\n\n");
        for (Base b : results.bases()) {
            sb.append(String.format(Locale.ROOT, "- **%s before unlearning:** full model forget TR KS p %s, model"
                            + " utility† %s; the retain model (never saw these authors) has model utility† %s.\n",
                    b.split(), p(b.full().forgetKsP()), f3(b.full().modelUtility()), f3(b.retain().modelUtility())));
        }
        sb.append('\n');
        for (Base b : results.bases()) {
            sb.append("### ").append(b.split()).append("\n\n");
            sb.append(table(results, results.runsOf(b.split()))).append('\n');
        }
        sb.append("Columns show epoch 0 (the full model) → the last epoch; *best epoch* is the epoch with the highest"
                + " KS p-value. Time is the run's wall-clock time including its per-epoch evaluation.\n\n");
        sb.append("![Forget TR KS p (log10) and model utility per epoch on the largest split, LoRA and FILA runs](")
                .append(chartFile).append(")\n\n");
        sb.append("## What it shows\n\n");
        for (String line : reading(results)) {
            sb.append("- ").append(line).append('\n');
        }
        sb.append("\n## Reproduce\n\n```\n").append(reproduceCommand).append("\n```\n\n");
        sb.append(String.format(Locale.ROOT, "The whole experiment took %.0f s (%.1f min) on this machine. The same"
                + " seed gives the same numbers on CPU.\n", results.totalSeconds(), results.totalSeconds() / 60));
        return sb.toString();
    }

    /** Plain statements read off the numbers of the largest split. */
    static List<String> reading(TofuExperimentResults results) {
        List<String> lines = new ArrayList<>();
        if (results.bases().isEmpty()) {
            return lines;
        }
        Base base = results.bases().get(results.bases().size() - 1);
        List<Run> runs = results.runsOf(base.split());
        lines.add(String.format(Locale.ROOT, "Fine-tuning %s: on %s the full model's truth ratios are %s from the"
                        + " retain model's (KS p %s).", base.full().forgetKsP() < 0.05 ? "planted the authors"
                        : "did not clearly plant the authors", base.split(),
                base.full().forgetKsP() < 0.05 ? "distinguishable" : "not distinguishable", p(base.full().forgetKsP())));
        if (runs.isEmpty()) {
            return lines;
        }
        lines.add(String.format(Locale.ROOT, "On %s at the last epoch, the highest forget TR KS p is %s, the"
                        + " highest model utility† %s; the full model had %s.", base.split(),
                leader(runs, r -> r.last().forgetKsP(), TofuExperimentPage::p),
                leader(runs, r -> r.last().modelUtility(), TofuExperimentPage::f3), f3(base.full().modelUtility())));
        List<String> zeros = base.full().zeroUtilityParts();
        if (!zeros.isEmpty()) {
            lines.add(String.format(Locale.ROOT, "Model utility† is a harmonic mean, so any of its nine numbers at 0"
                    + " holds it at 0: for the full model on %s, %s %s 0 (a 260K-parameter story model answers"
                    + " almost no real-world question). Retain utility‡ (the retain split's three numbers) is the"
                    + " part of utility this scale can measure; read the utility columns through it.", base.split(),
                    String.join(", ", zeros), zeros.size() == 1 ? "is" : "are"));
        }
        lines.add(String.format(Locale.ROOT, "On %s at the last epoch, the highest retain utility‡ is %s; the"
                        + " full model had %s.", base.split(),
                leader(runs, r -> r.last().retainUtility(), TofuExperimentPage::f3), f3(base.full().retainUtility())));
        Optional<Run> lokuRun = find(runs, UnlearningMethod.IHL, true);
        if (lokuRun.isPresent()) {
            Run l = lokuRun.get();
            long beatenOnForget = runs.stream().filter(r -> r != l && r.last().forgetKsP() > l.last().forgetKsP())
                    .count();
            long beatenOnUtility = runs.stream().filter(r -> r != l && r.last().modelUtility() > l.last().modelUtility())
                    .count();
            long beatenOnRetain = runs.stream()
                    .filter(r -> r != l && r.last().retainUtility() > l.last().retainUtility()).count();
            lines.add(String.format(Locale.ROOT, "IHL+FILA (LoKU) ends at KS p %s, utility† %s and retain utility‡ %s:"
                            + " %d of the other %d runs end with a higher KS p, %d with a higher utility† and %d with a"
                            + " higher retain utility‡.", p(l.last().forgetKsP()), f3(l.last().modelUtility()),
                    f3(l.last().retainUtility()), beatenOnForget, runs.size() - 1, beatenOnUtility, beatenOnRetain));
            Optional<Run> lora = find(runs, UnlearningMethod.IHL, false);
            lora.ifPresent(r -> lines.add(String.format(Locale.ROOT, "IHL with FILA against plain LoRA: KS p %s vs"
                            + " %s, utility† %s vs %s, retain utility‡ %s vs %s.", p(l.last().forgetKsP()),
                    p(r.last().forgetKsP()), f3(l.last().modelUtility()), f3(r.last().modelUtility()),
                    f3(l.last().retainUtility()), f3(r.last().retainUtility()))));
        }
        for (Run r : runs) {
            double du = r.last().modelUtility() - r.points().get(0).modelUtility();
            lines.add(String.format(Locale.ROOT, "%s: KS p %s → %s, model utility† %+.3f, retain utility‡ %s → %s,"
                            + " forget answer probability %s → %s.", r.label(), p(r.points().get(0).forgetKsP()),
                    p(r.last().forgetKsP()), du, f3(r.points().get(0).retainUtility()), f3(r.last().retainUtility()),
                    f3(r.points().get(0).forget().probability()), f3(r.last().forget().probability())));
        }
        lines.add("One seed, a 260K-parameter model, a few questions per author: read differences of less than an"
                + " order of magnitude in p, or a few hundredths of utility, as noise until other seeds agree.");
        return lines;
    }

    /**
     * Who holds the highest value, as the page prints it: "X's (v)" for one run, the runs that share it where the
     * printed value ties (every run at utility 0 must not read as one run's win).
     */
    static String leader(List<Run> runs, ToDoubleFunction<Run> metric, DoubleFunction<String> format) {
        double best = runs.stream().mapToDouble(metric).max().orElseThrow();
        String shown = format.apply(best);
        List<String> holders = runs.stream().filter(r -> format.apply(metric.applyAsDouble(r)).equals(shown))
                .map(Run::label).toList();
        if (holders.size() == 1) {
            return holders.get(0) + "'s (" + shown + ")";
        }
        if (holders.size() == runs.size()) {
            return shown + ", shared by all " + runs.size() + " runs";
        }
        return shown + ", shared by " + String.join(", ", holders);
    }

    private static Optional<Run> find(List<Run> runs, UnlearningMethod m, boolean fila) {
        return runs.stream().filter(r -> r.method() == m && r.fila() == fila).findFirst();
    }

    /** Four panels for the largest split: log10 KS p and model utility, for the LoRA runs and the FILA runs. */
    static void writeChart(TofuExperimentResults results, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(ExperimentChart.WIDTH, ExperimentChart.HEIGHT,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, ExperimentChart.WIDTH, ExperimentChart.HEIGHT);
            String split = results.bases().isEmpty() ? TofuData.forgetName(10)
                    : results.bases().get(results.bases().size() - 1).split();
            List<Run> runs = results.runsOf(split);
            int maxEpoch = Math.max(1, results.setup().epochs());
            double utilityTop = Math.max(0.05, runs.stream().flatMap(r -> r.points().stream())
                    .mapToDouble(Point::modelUtility).filter(Double::isFinite).max().orElse(1) * 1.1);
            for (boolean fila : new boolean[] {false, true}) {
                List<Run> group = runs.stream().filter(r -> r.fila() == fila).toList();
                int x = fila ? ExperimentChart.PANEL_W : 0;
                String kind = fila ? "FILA" : "LoRA";
                ExperimentChart.linePanel(g, x, 0, split + ", " + kind + ": log10 forget TR KS p", series(group,
                        pt -> Math.max(LOG_P_FLOOR, Math.log10(pt.forgetKsP()))), maxEpoch, LOG_P_FLOOR, 0, "%.0f",
                        Math.log10(0.05));
                ExperimentChart.linePanel(g, x, ExperimentChart.PANEL_H, split + ", " + kind + ": model utility†",
                        series(group, Point::modelUtility), maxEpoch, 0, utilityTop, "%.3f", Double.NaN);
            }
        } finally {
            g.dispose();
        }
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        if (!ImageIO.write(image, "png", png.toFile())) {
            throw new IOException("no PNG writer in this JVM");
        }
    }

    private static List<Series> series(List<Run> runs, java.util.function.ToDoubleFunction<Point> metric) {
        return runs.stream().map(r -> new Series(r.label(), r.points().stream().mapToInt(Point::epoch).toArray(),
                r.points().stream().mapToDouble(metric).toArray())).toList();
    }

    static String p(double v) {
        if (!Double.isFinite(v)) {
            return "n/a";
        }
        return v >= 0.001 ? String.format(Locale.ROOT, "%.3f", v) : String.format(Locale.ROOT, "%.1e", v);
    }

    static String f3(double v) {
        return ExperimentTable.f3(v);
    }
}
