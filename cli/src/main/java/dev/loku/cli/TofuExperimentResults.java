package dev.loku.cli;

import dev.loku.core.tofu.HarmonicMean;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.objective.UnlearningMethod;
import dev.loku.core.tofu.TofuMetrics;
import dev.loku.core.tofu.TofuSplitScores;
import java.util.List;

/**
 * Everything the TOFU experiment measured, in the shape its table, chart and JSON are written from (plain numbers,
 * so the writers can be checked against known inputs).
 *
 * @param setup what was run
 * @param bases per forget split: the full model and the retain model before any unlearning
 * @param runs one entry per (forget split, method, adapter initialisation), in the order they ran
 * @param totalSeconds wall-clock time of the whole experiment
 */
record TofuExperimentResults(Setup setup, List<Base> bases, List<Run> runs, double totalSeconds) {

    TofuExperimentResults {
        bases = List.copyOf(bases);
        runs = List.copyOf(runs);
    }

    /**
     * What was run.
     *
     * @param model the starting checkpoint
     * @param finetuneEpochs fine-tuning epochs of the full and the retain model
     * @param finetuneLr fine-tuning peak learning rate
     * @param finetuneBatch fine-tuning batch size
     * @param fullSeconds fine-tuning time of the full model (forget10 + retain)
     * @param retainSeconds fine-tuning time of the retain model (retain only)
     * @param epochs unlearning epochs of every run (no stop rule)
     * @param learningRate unlearning peak learning rate
     * @param rank LoRA rank (alpha = 2r)
     * @param batch forget records per optimiser step (each paired with as many retain records)
     * @param qaPerAuthor questions per fictitious author trained on and held by the forget splits (all scored)
     * @param evalPerAuthor retain questions per author scored for model utility
     * @param realWorldItems real-authors and world-facts questions scored for model utility
     * @param maxNewTokens longest greedy answer generated for ROUGE
     * @param seed seeds fine-tuning, retain sampling and the idk refusals
     * @param device where it ran
     * @param threads CPU cores the JVM saw
     */
    record Setup(String model, int finetuneEpochs, double finetuneLr, int finetuneBatch, double fullSeconds,
                 double retainSeconds, int epochs, double learningRate, int rank, int batch, int qaPerAuthor,
                 int evalPerAuthor, int realWorldItems, int maxNewTokens, long seed, String device, int threads) {}

    /** Probability, ROUGE-L recall and reported truth ratio of one model on one split (docs/method.md §5.2). */
    record SplitNumbers(int items, double probability, double rougeL, double truthRatio) {
        static SplitNumbers of(TofuSplitScores s) {
            return new SplitNumbers(s.size(), s.probability(), s.rougeL(), s.truthRatio());
        }
    }

    /**
     * One model state's TOFU numbers.
     *
     * @param forgetKsP the KS p-value of the forget split's (substitute) truth ratios against the retain model's
     * @param modelUtility harmonic mean of the nine utility numbers (retain truth ratio on the substitute)
     */
    record Point(int epoch, double loss, double forgetKsP, double modelUtility, SplitNumbers forget,
                 SplitNumbers retain, SplitNumbers realAuthors, SplitNumbers worldFacts, double seconds) {

        static Point of(int epoch, double loss, TofuSplitScores forget, TofuSplitScores reference,
                        List<TofuSplitScores> utility, double seconds) {
            return new Point(epoch, loss, TofuMetrics.truthRatioKsPValue(forget, reference),
                    TofuMetrics.modelUtility(utility), SplitNumbers.of(forget), SplitNumbers.of(utility.get(0)),
                    SplitNumbers.of(utility.get(1)), SplitNumbers.of(utility.get(2)), seconds);
        }

        /**
         * Retain utility‡: the harmonic mean of the retain split's answer probability, ROUGE-L and (substitute)
         * truth ratio — three of model utility's nine numbers, the ones about the fictitious authors that stay.
         * Not TOFU's model utility: a narrower number, shown beside it because at this scale the real-authors and
         * world-facts numbers can be 0 and then hold model utility at 0 whatever unlearning does.
         */
        double retainUtility() {
            return HarmonicMean.of(retain.probability(), retain.rougeL(), retain.truthRatio());
        }

        /** Which of model utility's nine numbers are 0, by name (what holds the harmonic mean at 0). */
        List<String> zeroUtilityParts() {
            List<String> zeros = new java.util.ArrayList<>();
            String[] splits = {"retain", "real-authors", "world-facts"};
            SplitNumbers[] numbers = {retain, realAuthors, worldFacts};
            for (int i = 0; i < splits.length; i++) {
                if (numbers[i].probability() == 0) {
                    zeros.add(splits[i] + " probability");
                }
                if (numbers[i].rougeL() == 0) {
                    zeros.add(splits[i] + " ROUGE-L");
                }
                if (numbers[i].truthRatio() == 0) {
                    zeros.add(splits[i] + " truth ratio");
                }
            }
            return zeros;
        }
    }

    /**
     * A forget split's starting points: the full model (what unlearning starts from; its KS p-value against the
     * retain model is epoch 0 of every run) and the retain model (the target: KS p-value 1 by definition).
     */
    record Base(String split, Point full, Point retain) {}

    /** One unlearning run: epoch 0 (the full model) then every epoch. */
    record Run(String split, UnlearningMethod method, boolean fila, List<Point> points, double seconds) {
        Run {
            points = List.copyOf(points);
        }

        String label() {
            return method.id().toUpperCase(java.util.Locale.ROOT) + (fila ? "+FILA" : "+LoRA");
        }

        Point last() {
            return points.get(points.size() - 1);
        }
    }

    List<Run> runsOf(String split) {
        return runs.stream().filter(r -> r.split().equals(split)).toList();
    }

    String toJson() {
        ObjectNode root = CliJson.MAPPER.createObjectNode();
        ObjectNode s = root.putObject("setup");
        s.put("model", setup.model());
        s.put("finetune_epochs", setup.finetuneEpochs());
        s.put("finetune_lr", setup.finetuneLr());
        s.put("finetune_batch", setup.finetuneBatch());
        s.put("full_finetune_seconds", setup.fullSeconds());
        s.put("retain_finetune_seconds", setup.retainSeconds());
        s.put("epochs", setup.epochs());
        s.put("learning_rate", setup.learningRate());
        s.put("lora_rank", setup.rank());
        s.put("batch", setup.batch());
        s.put("qa_per_author", setup.qaPerAuthor());
        s.put("eval_per_author", setup.evalPerAuthor());
        s.put("real_world_items", setup.realWorldItems());
        s.put("max_new_tokens", setup.maxNewTokens());
        s.put("seed", setup.seed());
        s.put("device", setup.device());
        s.put("threads", setup.threads());
        ArrayNode bs = root.putArray("bases");
        for (Base b : bases) {
            ObjectNode o = bs.addObject().put("split", b.split());
            point(o.putObject("full"), b.full());
            point(o.putObject("retain"), b.retain());
        }
        ArrayNode rs = root.putArray("runs");
        for (Run r : runs) {
            ObjectNode o = rs.addObject().put("split", r.split()).put("method", r.method().id()).put("fila", r.fila())
                    .put("label", r.label()).put("seconds", r.seconds());
            ArrayNode ps = o.putArray("epochs");
            r.points().forEach(p -> point(ps.addObject(), p));
        }
        root.put("total_seconds", totalSeconds);
        try {
            return CliJson.MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void point(ObjectNode o, Point p) {
        o.put("epoch", p.epoch());
        CliJson.number(o, "loss", p.loss());
        CliJson.number(o, "forget_truth_ratio_ks_p", p.forgetKsP());
        CliJson.number(o, "model_utility", p.modelUtility());
        CliJson.number(o, "retain_utility", p.retainUtility());
        numbers(o.putObject("forget"), p.forget());
        numbers(o.putObject("retain"), p.retain());
        numbers(o.putObject("real_authors"), p.realAuthors());
        numbers(o.putObject("world_facts"), p.worldFacts());
        CliJson.number(o, "seconds", p.seconds());
    }

    private static void numbers(ObjectNode o, SplitNumbers n) {
        o.put("items", n.items());
        CliJson.number(o, "probability", n.probability());
        CliJson.number(o, "rouge_l_recall", n.rougeL());
        CliJson.number(o, "truth_ratio", n.truthRatio());
    }
}
