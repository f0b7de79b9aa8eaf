package dev.loku.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.engine.EvaluationReport;
import dev.loku.core.engine.RecordSetScores;
import dev.loku.core.engine.RecordSets;
import dev.loku.core.engine.UnlearningEngine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku eval}: a model's memorisation of forget, retain and unseen records (docs/method.md §5.1). With {@code --json}
 * stdout holds exactly one JSON object: the six headline numbers {@code forget_ma, forget_el10, retain_ma,
 * retain_nll, unseen_ma, unseen_el10} (the unseen pair are the stop-rule thresholds the model would get) and
 * {@code sets: {forget|retain|unseen: {records, ma, el10, nll, perplexity, em, es}}}.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Score a model's memorisation (MA, EL_10, NLL, EM, ES) of forget, retain and"
        + " unseen records, or with --tofu its TOFU metrics (probability, ROUGE-L, truth ratio, model utility).")
final class EvalCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    /** Either memorisation records or TOFU questions, one of the two. */
    @ArgGroup(exclusive = true, multiplicity = "1")
    Inputs inputs;

    static final class Inputs {
        @ArgGroup(exclusive = false, heading = "Memorisation records:%n")
        RecordSetOptions records;

        @ArgGroup(exclusive = false, heading = "TOFU questions:%n")
        TofuEvalOptions tofu;
    }

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public void run() {
        DataFiles.requireModel(modelOptions.model);
        if (inputs.tofu != null) {
            TofuEvalRun.run(spec.commandLine(), modelOptions, inputs.tofu, json);
            return;
        }
        RecordSets files = inputs.records.requireFiles();
        UnlearningEngine engine = new UnlearningEngine(DataFiles.device(modelOptions.device));
        EvaluationReport r = DataFiles.run(() -> engine.evaluate(modelOptions.model, files, true));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode o = CliJson.MAPPER.createObjectNode();
            CliJson.number(o, "forget_ma", r.forget().ma());
            CliJson.number(o, "forget_el10", r.forget().el10());
            CliJson.number(o, "retain_ma", r.retain().ma());
            CliJson.number(o, "retain_nll", r.retain().nll());
            CliJson.number(o, "unseen_ma", r.unseen().ma());
            CliJson.number(o, "unseen_el10", r.unseen().el10());
            ObjectNode sets = o.putObject("sets");
            set(sets.putObject("forget"), r.forget());
            set(sets.putObject("retain"), r.retain());
            set(sets.putObject("unseen"), r.unseen());
            out.println(CliJson.write(o));
        } else {
            out.printf(Locale.ROOT, "%-8s %7s %7s %7s %8s %9s %7s %7s%n", "set", "records", "MA", "EL_10", "NLL",
                    "PPL", "EM", "ES");
            row(out, "forget", r.forget());
            row(out, "retain", r.retain());
            row(out, "unseen", r.unseen());
            out.printf(Locale.ROOT, "forgotten by the stop rule: %s (forget MA < unseen MA and forget EL_10 < unseen"
                    + " EL_10)%n", r.forget().ma() < r.unseen().ma() && r.forget().el10() < r.unseen().el10()
                    ? "yes" : "no");
        }
        out.flush();
    }

    private static void row(PrintWriter out, String name, RecordSetScores s) {
        out.printf(Locale.ROOT, "%-8s %7d %7.4f %7.4f %8.4f %9.2f %7.4f %7.4f%n", name, s.records(), s.ma(), s.el10(),
                s.nll(), s.perplexity(), s.em(), s.es());
    }

    private static void set(ObjectNode o, RecordSetScores s) {
        o.put("records", s.records());
        CliJson.number(o, "ma", s.ma());
        CliJson.number(o, "el10", s.el10());
        CliJson.number(o, "nll", s.nll());
        CliJson.number(o, "perplexity", s.perplexity());
        CliJson.number(o, "em", s.em());
        CliJson.number(o, "es", s.es());
    }
}
