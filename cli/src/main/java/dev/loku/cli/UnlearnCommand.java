package dev.loku.cli;

import ai.djl.ndarray.types.DataType;
import dev.loku.core.engine.EpochCheckpoints;
import dev.loku.core.engine.EpochEvaluation;
import dev.loku.core.engine.MicroBatchWeighting;
import dev.loku.core.engine.RecordSets;
import dev.loku.core.engine.UnlearnResult;
import dev.loku.core.engine.UnlearnSettings;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.core.objective.UnlearningMethod;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku unlearn}: make a model forget JSONL records offline, the same engine code the pipeline's worker runs.
 * Thresholds come from the unseen records on the starting model; training stops when forget MA and EL_10 are both
 * below them (docs/method.md §3.2). Writes {@code OUT/model} (adapters merged), {@code OUT/adapter} (PEFT, when the LoRA
 * rank is above 0) and the JSON report.
 */
@Command(name = "unlearn", mixinStandardHelpOptions = true,
        description = "Make a model forget JSONL records (LoKU: --method ihl --fila); writes the"
        + " unlearned model and a JSON report.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:the model forgot (forget MA and EL_10 below the unseen thresholds)",
                "1:an error (the message says what)", "2:a usage error",
                "3:the epoch budget ran out before the model forgot (model and report are still written)"})
final class UnlearnCommand implements Callable<Integer> {
    /** Exit code when the budget ran out first: a script must not mistake "still memorised" for success. */
    static final int NOT_FORGOTTEN = 3;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    RecordSetOptions records;

    @Option(names = "--method", required = true, paramLabel = "METHOD", completionCandidates = MethodIds.class,
            description = "One of ${COMPLETION-CANDIDATES}; ihl is LoKU's inverted hinge loss.")
    String method;

    /** The ids {@code --method} accepts, as the engine's {@link UnlearningMethod} names them. */
    static final class MethodIds implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return UnlearningMethod.ids().iterator();
        }
    }

    @Option(names = "--lora-rank", paramLabel = "R",
            description = "LoRA rank; 0 trains the full weights. Default: the tuned rank of UnlearnSettings.loku().")
    Integer loraRank;

    @Option(names = "--fila", description = "Initialise LoRA from Fisher importance (FILA); needs a rank above 0.")
    boolean fila;

    @Option(names = "--targets", split = ",", paramLabel = "KIND",
            description = "Projections that get adapters: all (every projection of the model's family), self_attn,"
                    + " mlp, peft (PEFT's default targets for the family) or projection names such as q_proj,v_proj"
                    + " (Llama, Mistral, Qwen2: q/k/v/o_proj, gate/up/down_proj; GPT-Neo: q/k/v_proj, out_proj,"
                    + " c_fc, c_proj; Phi: q/k/v_proj, dense, fc1, fc2). Default: all.")
    List<String> targets;

    @Option(names = "--importance", paramLabel = "FILE",
            description = "A saved Fisher importance file for --fila (computed here when omitted).")
    Path importance;

    @Option(names = "--max-epochs", paramLabel = "N", description = "Epoch budget. Default: the tuned budget.")
    Integer maxEpochs;

    @Option(names = "--lr", paramLabel = "X", description = "Learning rate. Default: the tuned rate.")
    Double learningRate;

    @Option(names = "--batch-size", paramLabel = "B",
            description = "Records per forward pass (one update per epoch either way).")
    Integer batchSize;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--checkpoint-activations",
            description = "Keep only each layer's input during a training forward and recompute the layer in the"
                    + " backward: the same gradients, less memory, about one more forward per step.")
    boolean checkpointActivations;

    @Option(names = "--epoch-evaluation", defaultValue = "every-epoch", paramLabel = "WHAT",
            description = "every-epoch (forget MA and EL_10, retain MA and NLL after each epoch) or stop-rule (forget"
                    + " EL_10 only once forget MA is below its threshold, retain only at epoch 0 and the last epoch;"
                    + " the same stopping epoch and model, unmeasured numbers null in the report). Default:"
                    + " ${DEFAULT-VALUE}.")
    String epochEvaluation;

    /** {@code --epoch-evaluation} as the engine's names. */
    static EpochEvaluation epochEvaluation(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "every-epoch" -> EpochEvaluation.EVERY_EPOCH;
            case "stop-rule" -> EpochEvaluation.STOP_RULE;
            default -> throw new UserException("--epoch-evaluation: '" + value
                    + "' is not an epoch evaluation; use every-epoch or stop-rule");
        };
    }

    @Option(names = "--micro-batch-weighting", defaultValue = "equal", paramLabel = "HOW",
            description = "How an epoch's micro-batches make its one step: equal (each 1/n, the mean of the"
                    + " micro-batch losses: the paper's recipe) or tokens (each by its label tokens over the epoch's,"
                    + " so the step is one token mean over the whole forget set; see docs/engine.md). Default:"
                    + " ${DEFAULT-VALUE}.")
    String microBatchWeighting;

    /** {@code --micro-batch-weighting} as the engine's names. */
    static MicroBatchWeighting microBatchWeighting(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "equal" -> MicroBatchWeighting.EQUAL;
            case "tokens" -> MicroBatchWeighting.TOKENS;
            default -> throw new UserException("--micro-batch-weighting: '" + value
                    + "' is not a micro-batch weighting; use equal or tokens");
        };
    }

    @Option(names = "--dtype", defaultValue = "fp32", paramLabel = "TYPE",
            description = "How the base weights are held while training: fp32 or fp16 (LoRA"
                    + " factors, optimiser state and losses stay float32). bf16 is not available with this DJL"
                    + " build. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--export-dtype", defaultValue = "auto", paramLabel = "TYPE",
            description = "The type of the weights in the exported model folders: auto (the checkpoint's own: a"
                    + " bfloat16 checkpoint comes back bfloat16; fp16 with --dtype fp16), fp32, fp16 or bf16 (written"
                    + " from the float32 weights, rounded to nearest even). The adapter stays float32."
                    + " Default: ${DEFAULT-VALUE}.")
    String exportDtype;

    /** {@code --export-dtype} as a DJL data type; null for auto. */
    static DataType exportType(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "auto" -> null;
            case "fp32", "float32" -> DataType.FLOAT32;
            case "fp16", "float16" -> DataType.FLOAT16;
            case "bf16", "bfloat16" -> DataType.BFLOAT16;
            default -> throw new UserException("--export-dtype: '" + value
                    + "' is not an export type; use auto, fp32, fp16 or bf16");
        };
    }

    /** {@code --dtype} as a DJL data type. */
    static DataType weightType(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> DataType.FLOAT32;
            case "fp16", "float16" -> DataType.FLOAT16;
            case "bf16", "bfloat16" -> throw new UserException("--dtype: bf16 is not available: DJL 0.36's PyTorch"
                    + " binding has no bfloat16 type; use fp16 (the same bytes per weight) or fp32");
            default -> throw new UserException("--dtype: '" + value + "' is not a weight type; use fp32 or fp16");
        };
    }

    /** A progress-line number, or "-" where the epoch did not measure it. */
    private static String measured(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    @Option(names = "--base-name", paramLabel = "NAME",
            description = "What base_model_name_or_path says in the adapters that apply to the original model"
                    + " (adapter/ without --fila, adapter-portable/ with it): a Hub id or a path. Default: the"
                    + " absolute path of --model.")
    String baseName;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "Save the run's state (adapter, optimiser, epoch records) there after every epoch; the same"
                    + " command run again after a crash or a kill goes on after the last saved epoch and ends as the"
                    + " uninterrupted run would have. Deleted when the run ends. Default: none.")
    Path checkpointDir;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Folder for model/, adapter/ and, with --fila, residual-base/ and adapter-portable/.")
    Path out;

    @Option(names = "--report", required = true, paramLabel = "FILE", description = "Where to write the JSON report.")
    Path report;

    @Override
    public Integer call() {
        UnlearnSettings settings = settings();
        DataFiles.requireModel(modelOptions.model);
        RecordSets sets = records.requireFiles();
        if (importance != null) {
            DataFiles.requireFile("--importance", importance);
        }
        UnlearningEngine engine = new UnlearningEngine(DataFiles.device(modelOptions.device))
                .withActivationCheckpointing(checkpointActivations)
                .withEpochEvaluation(epochEvaluation(epochEvaluation))
                .withWeightType(weightType(dtype))
                .withExportType(exportType(exportDtype))
                .withMicroBatchWeighting(microBatchWeighting(microBatchWeighting));
        ProgressReporter progress = new ProgressReporter("unlearn", settings.maxEpochs());
        EpochCheckpoints checkpoints = checkpointDir == null ? null : EpochCheckpoints.in(checkpointDir);
        UnlearnResult result;
        try {
            result = DataFiles.run(() -> engine.unlearn(modelOptions.model, sets, importance, settings, out,
                    e -> progress.step(e.epoch(), String.format(Locale.ROOT,
                            "epoch %d/%d loss %.4f forget MA %.4f EL_10 %s retain MA %s NLL %s (%.1f s)",
                            e.epoch(), settings.maxEpochs(), e.loss(), e.forgetMa(), measured(e.forgetEl10()),
                            measured(e.retainMa()), measured(e.retainNll()), e.seconds())), baseName,
                    checkpoints));
            if (checkpoints != null) {
                checkpoints.delete();
            }
        } catch (IOException e) {
            throw new UserException("--checkpoint-dir: cannot delete " + checkpointDir + ": " + e.getMessage(), e);
        } finally {
            // An error message must not land on the bar's line.
            progress.finish();
        }
        try {
            Path parent = report.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(report, result.report().toJson() + System.lineSeparator(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserException("--report: cannot write " + report + ": " + e.getMessage(), e);
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "%s after %d epoch(s): thresholds MA %.4f EL_10 %.4f%nmodel: %s%n",
                result.report().reachedThreshold() ? "forgotten" : "NOT forgotten within the epoch budget",
                result.report().stoppedAtEpoch(), result.report().thresholdMa(), result.report().thresholdEl10(),
                result.modelDir());
        if (result.adapterDir() != null) {
            w.printf(Locale.ROOT, "adapter: %s%n", result.adapterDir());
            Path portable = result.adapterDir().resolveSibling("adapter-portable");
            if (Files.isDirectory(portable)) {
                w.printf(Locale.ROOT, "adapter on the original model: %s%n", portable);
            }
        }
        w.printf(Locale.ROOT, "report: %s%n", report);
        w.flush();
        if (!result.report().reachedThreshold()) {
            PrintWriter err = spec.commandLine().getErr();
            err.printf(Locale.ROOT, "loku unlearn: the model did NOT forget within %d epoch(s); raise --max-epochs or"
                    + " --lr, or check the thresholds (exit %d)%n", settings.maxEpochs(), NOT_FORGOTTEN);
            err.flush();
            return NOT_FORGOTTEN;
        }
        return 0;
    }

    /** The tuned defaults with what the user set; one-line errors for impossible combinations. */
    UnlearnSettings settings() {
        UnlearningMethod chosen;
        try {
            chosen = UnlearningMethod.byId(method);
        } catch (IllegalArgumentException e) {
            throw new UserException("--method: " + e.getMessage(), e);
        }
        if (loraRank != null && loraRank == 0 && fila) {
            throw new UserException("--fila initialises LoRA adapters, so it needs --lora-rank above 0"
                    + " (--lora-rank 0 trains the full weights)");
        }
        try {
            UnlearnSettings s = UnlearnSettings.loku().withMethod(chosen).withSeed(seed);
            if (loraRank != null) {
                s = s.withLoraRank(loraRank);
            }
            s = s.withFila(fila);
            if (targets != null && !targets.isEmpty()) {
                s = s.withTargets(targets);
            }
            if (maxEpochs != null) {
                s = s.withMaxEpochs(maxEpochs);
            }
            if (learningRate != null) {
                s = s.withLearningRate(learningRate);
            }
            if (batchSize != null) {
                s = s.withBatchSize(batchSize);
            }
            s.validate();
            return s;
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        }
    }
}
