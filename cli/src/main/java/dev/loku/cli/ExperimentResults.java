package dev.loku.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.objective.UnlearningMethod;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Everything the memorisation experiment measured, in the shape its table, chart and JSON are written from. The
 * writers take these plain numbers (not engine objects), so they can be checked against known inputs.
 *
 * @param setup       what was run
 * @param base        the fine-tuned model before any unlearning (and the shipped model before fine-tuning)
 * @param runs        one entry per unlearning method, in the order they ran
 * @param totalSeconds wall-clock time of the whole experiment
 */
record ExperimentResults(Setup setup, BaseScores base, List<MethodRun> runs, double totalSeconds) {

    ExperimentResults {
        runs = List.copyOf(runs);
    }

    /**
     * What was run.
     *
     * @param model              the starting checkpoint, as given on the command line
     * @param persons            people taught in fine-tuning
     * @param forgetCount        of those, how many are forgotten
     * @param unseenCount        never-taught people the thresholds are measured on
     * @param seed               seeds data, fine-tuning and unlearning
     * @param replayStories      replay stories ({@link ExperimentReplay})
     * @param anchorWeight       weight of the fine-tune's KL anchor on the replay stories; 0 when they were trained
     *                           with the plain NLL instead
     * @param finetuneEpochs     fine-tuning epochs
     * @param finetuneLr         fine-tuning learning rate
     * @param finetuneBatch      fine-tuning batch size
     * @param finetuneSeconds    fine-tuning wall-clock time
     * @param thresholdMa        MA threshold (fine-tuned model on unseen persons)
     * @param thresholdEl10      EL_10 threshold (same)
     * @param forgetSubjectsSha256 hash of the forgotten subject ids (never their text)
     * @param device             where it ran, e.g. "cpu"
     * @param threads            CPU cores the JVM saw
     */
    record Setup(String model, int persons, int forgetCount, int unseenCount, long seed, int replayStories,
            double anchorWeight, int finetuneEpochs,
            double finetuneLr, int finetuneBatch, double finetuneSeconds, double thresholdMa, double thresholdEl10,
            String forgetSubjectsSha256, String device, int threads) {

        int retainCount() {
            return persons - forgetCount;
        }
    }

    /**
     * Scores before unlearning.
     *
     * @param shippedForgetMa  the shipped model's MA on the forget split before fine-tuning (it never saw them)
     * @param shippedStoryNll  the shipped model's story NLL before fine-tuning
     * @param forgetMa         fine-tuned model, forget split
     * @param forgetEl10       fine-tuned model, forget split
     * @param retainMa         fine-tuned model, retain split
     * @param unseenMa         fine-tuned model, unseen persons (the MA threshold)
     * @param unseenEl10       fine-tuned model, unseen persons (the EL_10 threshold)
     * @param storyNll         fine-tuned model, mean NLL per token on the TinyStories-style texts
     */
    record BaseScores(double shippedForgetMa, double shippedStoryNll, double forgetMa, double forgetEl10,
            double retainMa, double unseenMa, double unseenEl10, double storyNll) {}

    /** One row of the per-epoch log; epoch 0 is measured before any update. */
    record EpochPoint(int epoch, double loss, double forgetMa, double forgetEl10, double retainMa, double retainNll,
            double seconds) {}

    /**
     * One unlearning method's run.
     *
     * @param label           how tables and charts name it, e.g. "IHL+FILA"
     * @param method          the objective
     * @param loraRank        0 for full weights
     * @param fila            whether the adapters were FILA-initialised
     * @param learningRate    peak learning rate
     * @param maxEpochs       epoch budget
     * @param hyperparameters the engine's own record of its settings
     * @param epochs          per-epoch scores, epoch 0 first
     * @param stoppedAtEpoch  the last epoch run
     * @param reachedThreshold whether the stop rule fired within the budget
     * @param storyNllAfter   mean story NLL of the unlearned model
     * @param seconds         wall-clock time of the run (including its evaluations and export)
     */
    record MethodRun(String label, UnlearningMethod method, int loraRank, boolean fila, double learningRate, int maxEpochs,
            Map<String, String> hyperparameters, List<EpochPoint> epochs, int stoppedAtEpoch,
            boolean reachedThreshold, double storyNllAfter, double seconds) {

        MethodRun {
            hyperparameters = Map.copyOf(hyperparameters);
            epochs = List.copyOf(epochs);
            if (epochs.isEmpty()) {
                throw new IllegalArgumentException("a run has at least its epoch-0 scores");
            }
        }

        /** Epochs the stop rule needed, empty when it never fired. */
        OptionalInt epochsToThreshold() {
            return reachedThreshold ? OptionalInt.of(stoppedAtEpoch) : OptionalInt.empty();
        }

        EpochPoint first() {
            return epochs.get(0);
        }

        EpochPoint last() {
            return epochs.get(epochs.size() - 1);
        }
    }

    /** The raw numbers as pretty-printed JSON (snake_case keys). */
    String toJson() {
        ObjectNode root = CliJson.MAPPER.createObjectNode();
        ObjectNode s = root.putObject("setup");
        s.put("model", setup.model());
        s.put("persons", setup.persons());
        s.put("forget_count", setup.forgetCount());
        s.put("retain_count", setup.retainCount());
        s.put("unseen_count", setup.unseenCount());
        s.put("seed", setup.seed());
        s.put("replay_stories", setup.replayStories());
        s.put("anchor_weight", setup.anchorWeight());
        s.put("finetune_epochs", setup.finetuneEpochs());
        s.put("finetune_lr", setup.finetuneLr());
        s.put("finetune_batch", setup.finetuneBatch());
        s.put("finetune_seconds", setup.finetuneSeconds());
        s.putObject("thresholds").put("ma", setup.thresholdMa()).put("el10", setup.thresholdEl10());
        s.put("forget_subjects_sha256", setup.forgetSubjectsSha256());
        s.put("device", setup.device());
        s.put("threads", setup.threads());
        ObjectNode b = root.putObject("before_unlearning");
        b.put("shipped_forget_ma", base.shippedForgetMa());
        b.put("shipped_story_nll", base.shippedStoryNll());
        b.put("forget_ma", base.forgetMa());
        b.put("forget_el10", base.forgetEl10());
        b.put("retain_ma", base.retainMa());
        b.put("unseen_ma", base.unseenMa());
        b.put("unseen_el10", base.unseenEl10());
        b.put("story_nll", base.storyNll());
        ArrayNode rs = root.putArray("runs");
        for (MethodRun r : runs) {
            ObjectNode o = rs.addObject();
            o.put("label", r.label());
            o.put("method", r.method().id());
            o.put("lora_rank", r.loraRank());
            o.put("fila", r.fila());
            o.put("learning_rate", r.learningRate());
            o.put("max_epochs", r.maxEpochs());
            ObjectNode hp = o.putObject("hyperparameters");
            r.hyperparameters().entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> hp.put(e.getKey(), e.getValue()));
            o.put("stopped_at_epoch", r.stoppedAtEpoch());
            o.put("reached_threshold", r.reachedThreshold());
            if (r.epochsToThreshold().isPresent()) {
                o.put("epochs_to_threshold", r.epochsToThreshold().getAsInt());
            } else {
                o.putNull("epochs_to_threshold");
            }
            o.put("story_nll_after", r.storyNllAfter());
            o.put("seconds", r.seconds());
            ArrayNode es = o.putArray("epochs");
            for (EpochPoint e : r.epochs()) {
                ObjectNode row = es.addObject().put("epoch", e.epoch());
                CliJson.number(row, "loss", e.loss());
                CliJson.number(row, "forget_ma", e.forgetMa());
                CliJson.number(row, "forget_el10", e.forgetEl10());
                CliJson.number(row, "retain_ma", e.retainMa());
                CliJson.number(row, "retain_nll", e.retainNll());
                row.put("seconds", e.seconds());
            }
        }
        root.put("total_seconds", totalSeconds);
        try {
            return CliJson.MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
