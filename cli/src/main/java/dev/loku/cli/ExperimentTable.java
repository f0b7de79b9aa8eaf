package dev.loku.cli;

import dev.loku.cli.ExperimentResults.BaseScores;
import dev.loku.cli.ExperimentResults.EpochPoint;
import dev.loku.cli.ExperimentResults.MethodRun;
import dev.loku.cli.ExperimentResults.Setup;
import dev.loku.core.objective.UnlearningMethod;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The memorisation experiment as Markdown: the results table and the page around it (setup, an account of the
 * numbers generated from the numbers themselves, how to reproduce). Nothing here is typed in by hand, so the page
 * cannot disagree with the JSON written next to it.
 */
final class ExperimentTable {

    private ExperimentTable() {}

    /** The one-row-per-method table: budget, epochs to threshold, and each metric before → after. */
    static String table(ExperimentResults results) {
        StringBuilder sb = new StringBuilder();
        sb.append("| Method | Trains | lr | Epochs to threshold | Forget MA | Forget EL_10 | Retain MA"
                + " | Story NLL | Time |\n");
        sb.append("|---|---|---:|---:|---|---|---|---|---:|\n");
        for (MethodRun r : results.runs()) {
            EpochPoint first = r.first();
            EpochPoint last = r.last();
            sb.append("| ").append(r.label())
                    .append(" | ").append(trains(r))
                    .append(" | ").append(lr(r.learningRate()))
                    .append(" | ").append(epochsToThreshold(r))
                    .append(" | ").append(arrow(first.forgetMa(), last.forgetMa()))
                    .append(" | ").append(arrow(first.forgetEl10(), last.forgetEl10()))
                    .append(" | ").append(arrow(first.retainMa(), last.retainMa()))
                    .append(" | ").append(arrow(results.base().storyNll(), r.storyNllAfter()))
                    .append(String.format(Locale.ROOT, " (%+.3f)", r.storyNllAfter() - results.base().storyNll()))
                    .append(" | ").append(String.format(Locale.ROOT, "%.0f s", r.seconds()))
                    .append(" |\n");
        }
        return sb.toString();
    }

    /** The story NLL the shipped model has: a fine-tune that stays within this margin of it kept its ability. */
    static final double STORY_NLL_MARGIN = 0.5;

    /**
     * One row per method over every seed: how many seeds reached the thresholds, epochs to threshold, forget MA and
     * EL_10 after, retain MA lost and story NLL change, each as mean ± sample standard deviation [min, max].
     */
    static String summaryTable(MemorisationSeeds all) {
        StringBuilder sb = new StringBuilder();
        sb.append("| Method | Reached thresholds | Epochs run | Forget MA after | Forget EL_10 after"
                + " | Retain MA lost (points) | Story NLL change |\n");
        sb.append("|---|---:|---|---|---|---|---|\n");
        for (String label : all.labels()) {
            List<MethodRun> runs = all.runsOf(label);
            double[] nll = new double[runs.size()];
            for (int i = 0; i < runs.size(); i++) {
                nll[i] = runs.get(i).storyNllAfter() - all.seeds().get(i).base().storyNll();
            }
            sb.append("| ").append(label)
                    .append(" | ").append(runs.stream().filter(MethodRun::reachedThreshold).count()).append(" of ")
                    .append(runs.size())
                    .append(" | ").append(spread(MemorisationSeeds.spread(runs, MethodRun::stoppedAtEpoch), "%.1f", 1))
                    .append(" | ").append(spread(MemorisationSeeds.spread(runs, r -> r.last().forgetMa()), "%.3f", 1))
                    .append(" | ").append(spread(MemorisationSeeds.spread(runs, r -> r.last().forgetEl10()), "%.3f", 1))
                    .append(" | ").append(spread(MemorisationSeeds.spread(runs,
                            r -> r.first().retainMa() - r.last().retainMa()), "%.1f", 100))
                    .append(" | ").append(spread(MemorisationSeeds.Spread.of(nll), "%+.3f", 1))
                    .append(" |\n");
        }
        return sb.toString();
    }

    private static String spread(MemorisationSeeds.Spread s, String format, double scale) {
        String mean = String.format(Locale.ROOT, format, s.mean() * scale);
        if (s.n() == 1) {
            return mean;
        }
        return mean + String.format(Locale.ROOT, " ± " + format.replace("+", "") + " [", s.sd() * scale)
                + String.format(Locale.ROOT, format, s.min() * scale) + ", "
                + String.format(Locale.ROOT, format, s.max() * scale) + "]";
    }

    /** The page of a several-seed run: setup, the summary over seeds, what it shows, each seed's table. */
    static String seedsDocument(MemorisationSeeds all, String reproduceCommand, String chartFile, String jsonFile) {
        ExperimentResults first = all.seeds().get(0);
        String single = document(first, reproduceCommand, chartFile, jsonFile);
        // The setup section of the first seed's page holds for every seed (only the seed differs).
        String setup = single.substring(single.indexOf("## Setup"), single.indexOf("## Results"));
        List<Long> seeds = all.seeds().stream().map(r -> r.setup().seed()).toList();
        StringBuilder sb = new StringBuilder();
        sb.append("# Memorisation experiment: forgetting 10% of memorised personal records\n\n");
        sb.append("This page is written by `loku experiment memorisation`; rerunning the command below regenerates it,"
                + " the chart and the raw numbers (`").append(jsonFile).append("`). Every figure on it is measured,"
                + " none is typed in. It ran ").append(seeds.size()).append(" seeds (").append(seeds)
                .append("): each seed draws its own people and forget split, fine-tunes its own model and runs every"
                        + " method.\n\n");
        sb.append(setup.replace("seed " + first.setup().seed() + ";", "one seed each;"));
        sb.append("## Fine-tuning kept the story ability?\n\n");
        sb.append(String.format(Locale.ROOT, "The shipped model's story NLL is %s nats per token; the bar this page"
                + " sets is a fine-tuned model within %.1f nats of it.\n\n", f3(first.base().shippedStoryNll()),
                STORY_NLL_MARGIN));
        sb.append("| Seed | Story NLL after fine-tuning | Within the margin | Forget MA | Forget EL_10 | Unseen MA"
                + " (threshold) | Unseen EL_10 (threshold) |\n|---:|---|---|---|---|---|---|\n");
        for (ExperimentResults r : all.seeds()) {
            BaseScores b = r.base();
            double rise = b.storyNll() - b.shippedStoryNll();
            sb.append(String.format(Locale.ROOT, "| %d | %s (%+.3f) | %s | %s | %s | %s | %s |\n", r.setup().seed(),
                    f3(b.storyNll()), rise, rise <= STORY_NLL_MARGIN ? "yes" : "**no**", f3(b.forgetMa()),
                    f3(b.forgetEl10()), f3(b.unseenMa()), f3(b.unseenEl10())));
        }
        sb.append("\n## Results over the seeds\n\n");
        sb.append(summaryTable(all)).append('\n');
        sb.append("Each cell is the mean ± the sample standard deviation over the seeds, [lowest, highest]. *Epochs"
                + " run* is the threshold epoch when the stop rule fired, else the budget. Story NLL change is after"
                + " unlearning minus the fine-tuned model's.\n\n");
        sb.append("![Forget MA, forget EL_10 and retain MA per epoch, and the story NLL change, per method, seed ")
                .append(first.setup().seed()).append("](").append(chartFile).append(")\n\n");
        sb.append("The chart shows seed ").append(first.setup().seed()).append(".\n\n");
        sb.append("## What it shows\n\n");
        for (String line : seedsReading(all)) {
            sb.append("- ").append(line).append('\n');
        }
        sb.append('\n');
        for (ExperimentResults r : all.seeds()) {
            sb.append("### Seed ").append(r.setup().seed()).append("\n\n");
            sb.append(table(r)).append('\n');
        }
        sb.append("## Reproduce\n\n```\n").append(reproduceCommand).append("\n```\n\n");
        sb.append(String.format(Locale.ROOT, "The whole experiment took %.0f s (%.1f min) on this machine (%s, %d"
                        + " cores, shared with other work). The same seeds give the same numbers on CPU.\n",
                all.totalSeconds(), all.totalSeconds() / 60, first.setup().device(), first.setup().threads()));
        return sb.toString();
    }

    /** Statements read off every seed: where IHL+FILA beats GA+LoRA and where it does not, per seed. */
    static List<String> seedsReading(MemorisationSeeds all) {
        List<String> lines = new ArrayList<>();
        for (String label : all.labels()) {
            List<MethodRun> runs = all.runsOf(label);
            long reached = runs.stream().filter(MethodRun::reachedThreshold).count();
            lines.add(String.format(Locale.ROOT, "%s reached both thresholds on %d of %d seeds%s; retain MA lost %s"
                            + " points on average.", label, reached, runs.size(),
                    reached == 0 ? "" : String.format(Locale.ROOT, " (epochs: %s)", runs.stream()
                            .map(r -> r.reachedThreshold() ? Integer.toString(r.stoppedAtEpoch()) : "–").toList()),
                    String.format(Locale.ROOT, "%.1f", 100 * MemorisationSeeds.spread(runs,
                            r -> r.first().retainMa() - r.last().retainMa()).mean())));
        }
        List<MethodRun> fila = all.runsOf("IHL+FILA");
        List<MethodRun> gaLora = all.runsOf("GA+LoRA");
        if (!fila.isEmpty() && fila.size() == gaLora.size()) {
            for (int i = 0; i < fila.size(); i++) {
                MethodRun f = fila.get(i);
                MethodRun g = gaLora.get(i);
                long seed = all.seeds().get(i).setup().seed();
                double retainGap = 100 * ((f.first().retainMa() - f.last().retainMa())
                        - (g.first().retainMa() - g.last().retainMa()));
                String speed = f.reachedThreshold() && g.reachedThreshold()
                        ? (f.stoppedAtEpoch() < g.stoppedAtEpoch() ? "IHL+FILA forgot in fewer epochs"
                        : f.stoppedAtEpoch() > g.stoppedAtEpoch() ? "GA+LoRA forgot in fewer epochs"
                        : "both forgot in the same number of epochs")
                        : f.reachedThreshold() ? "only IHL+FILA reached the thresholds"
                        : g.reachedThreshold() ? "only GA+LoRA reached the thresholds" : "neither reached the thresholds";
                boolean wins = f.reachedThreshold() && (!g.reachedThreshold() || f.stoppedAtEpoch() <= g.stoppedAtEpoch())
                        && retainGap <= 0;
                lines.add(String.format(Locale.ROOT, "Seed %d, IHL+FILA against GA+LoRA: %s, and IHL+FILA lost %+.1f"
                        + " retain-MA points relative to GA+LoRA — %s.", seed, speed, retainGap,
                        wins ? "IHL+FILA does better on this seed"
                                : "IHL+FILA does not beat GA+LoRA on both counts on this seed"));
            }
        }
        lines.add("A 260K-parameter model and a handful of seeds: the spreads above are what another seed can move;"
                + " a difference smaller than them is not a finding.");
        return lines;
    }

    /** "3" when the stop rule fired at epoch 3, "not reached (max 20)" otherwise. */
    static String epochsToThreshold(MethodRun r) {
        return r.epochsToThreshold().isPresent() ? Integer.toString(r.epochsToThreshold().getAsInt())
                : "not reached (max " + r.maxEpochs() + ")";
    }

    /** How the replay stories kept the fine-tuned model's story ability, in words for the setup line. */
    static String replayClause(Setup s) {
        String stories = s.replayStories() + " replay stories (the shipped model's own sampled continuations of fixed"
                + " story openings)";
        if (s.replayStories() == 0) {
            return "with no replay";
        }
        return s.anchorWeight() > 0
                ? String.format(Locale.ROOT, "while anchored on %s: every step adds %s × the KL divergence from the"
                        + " shipped model's next-token distributions on a batch of them, so that it keeps its story"
                        + " ability", stories, lr(s.anchorWeight()))
                : "plus " + stories + ", trained with the plain NLL so that it keeps its story ability";
    }

    static String trains(MethodRun r) {
        if (r.loraRank() == 0) {
            return "all weights";
        }
        return (r.fila() ? "FILA-initialised LoRA" : "LoRA") + " r=" + r.loraRank();
    }

    /** The whole page: what was run, the table, what the numbers say, how to run it again. */
    static String document(ExperimentResults results, String reproduceCommand, String chartFile, String jsonFile) {
        Setup s = results.setup();
        BaseScores b = results.base();
        StringBuilder sb = new StringBuilder();
        sb.append("# Memorisation experiment: forgetting 10% of memorised personal records\n\n");
        sb.append("This page is written by `loku experiment memorisation`; rerunning the command below regenerates it,"
                + " the chart and the raw numbers (`").append(jsonFile).append("`). Every figure on it is measured,"
                + " none is typed in.\n\n");

        sb.append("## Setup\n\n");
        sb.append(String.format(Locale.ROOT,
                "- **Model:** `%s` (stories260K, llama2.c, 260K parameters, vocabulary 512), run on %s with %d cores.\n",
                s.model(), s.device(), s.threads()));
        sb.append(String.format(Locale.ROOT,
                "- **Data:** %d synthetic people (`SyntheticPersons`, seed %d; fictitious names, 555 phone numbers,"
                        + " example.org e-mails), one sentence each. The model is fully fine-tuned on all %d taught"
                        + " people %s for %d epochs (AdamW, lr %s with one epoch of warm-up and linear decay, batch"
                        + " %d; %.0f s).\n",
                s.persons() + s.unseenCount(), s.seed(), s.persons(), replayClause(s), s.finetuneEpochs(),
                lr(s.finetuneLr()), s.finetuneBatch(), s.finetuneSeconds()));
        sb.append(String.format(Locale.ROOT,
                "- **Splits:** forget = %d of the taught people (seeded random choice; subject-id hash `%s`),"
                        + " retain = the other %d, unseen = %d people from the same generator that were never"
                        + " taught.\n",
                s.forgetCount(), s.forgetSubjectsSha256().substring(0, 16), s.retainCount(), s.unseenCount()));
        sb.append(String.format(Locale.ROOT,
                "- **Thresholds** (docs/method.md §3.2, Jang et al.): the fine-tuned model's own scores on the unseen"
                        + " people, MA %s and EL_10 %s. A method has forgotten once the forget set's mean MA"
                        + " **and** mean EL_10 are both below them; training stops at that epoch.\n",
                f3(s.thresholdMa()), f3(s.thresholdEl10())));
        sb.append("- **Metrics** (docs/method.md §5.1): MA = share of next tokens the greedy model predicts right"
                + " (teacher forcing); EL_10 = 10-gram overlap of greedy continuations from every prefix with the true"
                + " suffix; retain MA on the retained people; story NLL = mean negative log-likelihood per token"
                + " (nats) on the TinyStories-style texts in `data/stories/stories.jsonl`, which no run trains on"
                + " (general language ability).\n");
        sb.append("- **Methods:** the same epoch budget and seed for all; objectives as in docs/method.md §4 (GA = ascent"
                + " on the forget NLL; GD = GA + retain NLL; IHL = inverted hinge loss + retain NLL, §1); LoRA on the"
                + " same target modules at the same rank and alpha; FILA (§2) from one Fisher pass shared by the"
                + " runs that use it. The learning rates are in the table.\n\n");

        sb.append("## Results\n\n");
        sb.append(String.format(Locale.ROOT, "Before unlearning, the fine-tuned model has forget MA %s and EL_10 %s,"
                        + " retain MA %s, story NLL %s; on the unseen people MA %s and EL_10 %s (the thresholds)."
                        + " Before fine-tuning, the shipped model's MA on the forget people was %s and its story"
                        + " NLL %s.\n\n",
                f3(b.forgetMa()), f3(b.forgetEl10()), f3(b.retainMa()), f3(b.storyNll()), f3(b.unseenMa()),
                f3(b.unseenEl10()), f3(b.shippedForgetMa()), f3(b.shippedStoryNll())));
        sb.append(table(results)).append('\n');
        sb.append("Columns show the value before unlearning → after the last epoch run (the threshold epoch, or the"
                + " budget). Time is the run's wall-clock time including its per-epoch evaluation.\n\n");
        sb.append("![Forget MA, forget EL_10 and retain MA per epoch, and the story NLL change, per method](")
                .append(chartFile).append(")\n\n");

        sb.append("## What it shows\n\n");
        for (String line : reading(results)) {
            sb.append("- ").append(line).append('\n');
        }
        sb.append('\n');

        sb.append("## Reproduce\n\n");
        sb.append("```\n").append(reproduceCommand).append("\n```\n\n");
        sb.append(String.format(Locale.ROOT, "The whole experiment took %.0f s (%.1f min) on this machine. The same"
                + " seed gives the same numbers on CPU.\n", results.totalSeconds(), results.totalSeconds() / 60));
        return sb.toString();
    }

    /**
     * Plain statements read off the numbers: which methods reached the thresholds and how fast, what each cost in
     * retained memorisation and story NLL, and how FILA compares with plain LoRA under IHL.
     */
    static List<String> reading(ExperimentResults results) {
        List<String> lines = new ArrayList<>();
        BaseScores b = results.base();
        double memorised = b.forgetMa() - b.unseenMa();
        lines.add(String.format(Locale.ROOT, "Fine-tuning %s: forget MA %s against %s on unseen people (%+.3f)"
                        + " and EL_10 %s against %s.",
                memorised > 0.05 ? "memorised the records" : "did not clearly memorise the records",
                f3(b.forgetMa()), f3(b.unseenMa()), memorised, f3(b.forgetEl10()), f3(b.unseenEl10())));

        if (b.unseenMa() > 0.5) {
            lines.add(String.format(Locale.ROOT, "Every record follows one sentence template, so the fine-tuned model"
                    + " predicts %.0f%% of an unseen person's tokens too (the template words, and the e-mail that"
                    + " repeats the name): what memorisation adds is the person-specific tokens, which is why the MA"
                    + " threshold is high and EL_10 (10-token runs, which the varying details break up on unseen"
                    + " people) separates memorised from unseen records more clearly.", 100 * b.unseenMa()));
        }
        List<MethodRun> reached = results.runs().stream().filter(MethodRun::reachedThreshold)
                .sorted(Comparator.comparingInt(MethodRun::stoppedAtEpoch)).toList();
        List<MethodRun> missed = results.runs().stream().filter(r -> !r.reachedThreshold()).toList();
        if (reached.isEmpty()) {
            lines.add("No method reached both thresholds within the budget.");
        } else {
            StringBuilder sb = new StringBuilder("Reached both thresholds: ");
            for (int i = 0; i < reached.size(); i++) {
                MethodRun r = reached.get(i);
                sb.append(i == 0 ? "" : ", ").append(r.label()).append(" in ").append(r.stoppedAtEpoch())
                        .append(r.stoppedAtEpoch() == 1 ? " epoch" : " epochs");
            }
            lines.add(sb.append('.').toString());
        }
        for (MethodRun r : missed) {
            lines.add(String.format(Locale.ROOT, "%s did not reach them in %d epochs (forget MA %s, EL_10 %s at the"
                            + " end; %s).", r.label(), r.stoppedAtEpoch(), f3(r.last().forgetMa()),
                    f3(r.last().forgetEl10()), whichMissed(results.setup(), r.last())));
        }
        for (MethodRun r : results.runs()) {
            double retainDrop = r.first().retainMa() - r.last().retainMa();
            double nll = r.storyNllAfter() - b.storyNll();
            lines.add(String.format(Locale.ROOT, "%s: retain MA %s → %s (%s), story NLL %+.3f nats (%s).",
                    r.label(), f3(r.first().retainMa()), f3(r.last().retainMa()),
                    retainDrop > 0 ? String.format(Locale.ROOT, "%.1f points lost", 100 * retainDrop)
                            : String.format(Locale.ROOT, "%.1f points gained", -100 * retainDrop),
                    nll, Math.abs(nll) < 0.02 ? "about unchanged" : nll > 0 ? "worse" : "better"));
        }
        List<String> firstStep = results.runs().stream()
                .filter(r -> r.reachedThreshold() && r.stoppedAtEpoch() == 1).map(MethodRun::label).toList();
        if (!firstStep.isEmpty()) {
            lines.add(String.join(", ", firstStep) + (firstStep.size() == 1 ? " was" : " were") + " below both"
                    + " thresholds after a single update (one optimiser step per epoch, docs/method.md §3.2): the stop"
                    + " rule only looks between updates, so how far past the thresholds that step went, and what it"
                    + " cost the retained records, is down to the step size, not to a tuned stopping point.");
        }
        Optional<MethodRun> fila = find(results, UnlearningMethod.IHL, true);
        Optional<MethodRun> lora = find(results, UnlearningMethod.IHL, false);
        if (fila.isPresent() && lora.isPresent()) {
            lines.add(compare(fila.get(), lora.get()));
        }
        lines.add("One seed, one forget split, a 260K-parameter model: differences of an epoch or a few points are"
                + " within what another seed could change; rerun with other `--seed` values before leaning on them.");
        return lines;
    }

    private static String whichMissed(Setup s, EpochPoint last) {
        boolean ma = last.forgetMa() >= s.thresholdMa();
        boolean el = last.forgetEl10() >= s.thresholdEl10();
        return ma && el ? "both above" : ma ? "MA still above its threshold" : "EL_10 still above its threshold";
    }

    private static String compare(MethodRun fila, MethodRun lora) {
        String epochs;
        if (fila.reachedThreshold() && lora.reachedThreshold()) {
            int d = lora.stoppedAtEpoch() - fila.stoppedAtEpoch();
            epochs = d > 0 ? "FILA reached the thresholds " + d + (d == 1 ? " epoch" : " epochs") + " sooner"
                    : d < 0 ? "FILA needed " + (-d) + (d == -1 ? " epoch" : " epochs") + " more"
                    : "both needed the same number of epochs";
        } else if (fila.reachedThreshold()) {
            epochs = "only FILA reached the thresholds";
        } else if (lora.reachedThreshold()) {
            epochs = "only plain LoRA reached the thresholds";
        } else {
            epochs = "neither reached the thresholds";
        }
        double dr = (fila.last().retainMa() - lora.last().retainMa()) * 100;
        return String.format(Locale.ROOT, "IHL with FILA against IHL with plain LoRA (%s vs %s): %s; at the end"
                        + " retain MA differs by %+.1f points and story NLL by %+.3f nats (FILA minus LoRA).",
                fila.label(), lora.label(), epochs, dr, fila.storyNllAfter() - lora.storyNllAfter());
    }

    private static Optional<MethodRun> find(ExperimentResults results, UnlearningMethod method, boolean fila) {
        return results.runs().stream()
                .filter(r -> r.method() == method && r.loraRank() > 0 && r.fila() == fila).findFirst();
    }

    static String arrow(double before, double after) {
        return f3(before) + " → " + f3(after);
    }

    static String f3(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "n/a";
    }

    /** Learning rates as written in configs: 2e-4, 0.001 → 1e-3. */
    static String lr(double v) {
        if (v == 0) {
            return "0";
        }
        int exp = (int) Math.floor(Math.log10(Math.abs(v)));
        double mant = v / Math.pow(10, exp);
        String m = Math.abs(mant - Math.rint(mant)) < 1e-9 ? Long.toString(Math.round(mant))
                : String.format(Locale.ROOT, "%.2f", mant).replaceAll("0+$", "");
        return m + "e" + exp;
    }
}
