package dev.loku.cli;

import dev.loku.core.model.CausalLm;
import dev.loku.core.model.HfExporter;
import dev.loku.core.model.ModelLoadException;
import dev.loku.core.model.RotaryLayout;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code loku lm export}: write any loadable model as a Hugging Face folder of its family. */
@Command(name = "export", description = "Write the model as a Hugging Face folder (config.json, safetensors,"
        + " tokenizer.json) that transformers and this tool both load.")
final class LmExportCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write (created if needed).")
    Path out;

    @Option(names = "--shard-size-mb", paramLabel = "MB",
            description = "Split the weights into shards of at most this size, with model.safetensors.index.json.")
    Double shardSizeMb;

    @Override
    public void run() {
        long limit = shardSizeMb == null ? Long.MAX_VALUE : (long) (shardSizeMb * 1024 * 1024);
        if (limit <= 0) {
            throw new UserException("--shard-size-mb must be positive");
        }
        try (CausalLm model = modelOptions.load()) {
            HfExporter.export(model, out, limit);
            boolean permuted = model.rotaryLayout() != RotaryLayout.HALF;
            spec.commandLine().getOut().printf("wrote %s (%d parameters%s)%n", out, model.parameterCount(),
                    permuted ? "; q/k rows permuted from the interleaved to the rotate_half rotary layout" : "");
            spec.commandLine().getOut().flush();
        } catch (ModelLoadException e) {
            throw new UserException(e.getMessage(), e);
        }
    }
}
