package dev.loku.cli;

import dev.loku.core.engine.FinetuneResult;
import dev.loku.core.engine.FinetuneSettings;
import dev.loku.core.engine.UnlearningEngine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku finetune}: full fine-tuning of a model on JSONL records (how a model comes to memorise them), written
 * as a Hugging Face folder. AdamW, one epoch of linear warm-up then linear decay, seeded shuffling (docs/method.md §3.1).
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tune every weight of a model on JSONL records; writes a Hugging Face"
        + " folder.")
final class FinetuneCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "JSONL records: {\"text\": ...} or {\"question\": ..., \"answer\": ...} per line.")
    Path data;

    @Option(names = "--epochs", required = true, paramLabel = "N", description = "Passes over the data.")
    int epochs;

    @Option(names = "--lr", required = true, paramLabel = "X", description = "Peak learning rate.")
    double learningRate;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write (created if needed).")
    Path out;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "B",
            description = "Records per step. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S",
            description = "Seed of the shuffling. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--anchor", paramLabel = "FILE",
            description = "JSONL texts the model should keep handling: every step adds --anchor-weight x the KL"
                    + " divergence from the starting model's next-token distributions on a batch of them.")
    Path anchor;

    @Option(names = "--checkpoint-activations",
            description = "Keep only each layer's input during a training forward and recompute the layer in the"
                    + " backward: the same gradients, less memory, about one more forward per step.")
    boolean checkpointActivations;

    @Option(names = "--anchor-weight", defaultValue = "1", paramLabel = "W",
            description = "Weight of the --anchor term. Default: ${DEFAULT-VALUE}.")
    double anchorWeight;

    @Override
    public void run() {
        DataFiles.requireModel(modelOptions.model);
        DataFiles.requireFile("--data", data);
        if (anchor != null) {
            DataFiles.requireFile("--anchor", anchor);
        }
        FinetuneSettings settings;
        try {
            settings = new FinetuneSettings(epochs, learningRate, batchSize, seed, anchor == null ? 0 : anchorWeight);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
        UnlearningEngine engine = new UnlearningEngine(DataFiles.device(modelOptions.device))
                .withActivationCheckpointing(checkpointActivations);
        ProgressReporter progress = new ProgressReporter("finetune", epochs);
        long start = System.nanoTime();
        FinetuneResult result;
        try {
            result = DataFiles.run(() -> engine.finetune(modelOptions.model, data, anchor, settings, out,
                    epoch -> progress.step(epoch, String.format(Locale.ROOT, "epoch %d/%d done (%.1f s)", epoch,
                            epochs, (System.nanoTime() - start) / 1e9))));
        } finally {
            // An error message must not land on the bar's line.
            progress.finish();
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "fine-tuned model: %s%nepochs: %d, final loss: %.4f nats/token, train MA: %.4f%n",
                result.modelDir(), result.epochs(), result.finalLoss(), result.trainMa());
        w.flush();
    }
}
