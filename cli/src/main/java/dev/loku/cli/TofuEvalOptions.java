package dev.loku.cli;

import dev.loku.core.data.InvalidDataException;
import dev.loku.core.tofu.TofuData;
import dev.loku.core.tofu.TofuSplit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code loku eval --tofu}'s options: which model is scored on which TOFU questions. The questions come from a folder
 * laid out as the project's {@code data/tofu} (forget10 with its forget05/forget01 flags and the retain evaluation
 * set in {@code tofu_qa.jsonl}, real authors and world facts with their perturbed answers), read by {@link TofuData};
 * the sizes cut each split to its first questions (per author for forget and retain), in the order TOFU ships them.
 */
final class TofuEvalOptions {

    @Option(names = "--tofu", required = true,
            description = "Score the TOFU metrics (docs/method.md §5.2) instead of memorisation records.")
    boolean tofu;

    @Option(names = "--progress", description = "Print a progress line per split on stderr.")
    boolean progress;

    @Option(names = "--tofu-data", paramLabel = "DIR",
            description = "The TOFU data folder (the layout of data/tofu). Default: the project's data/tofu.")
    Path data;

    @Option(names = "--forget-split", defaultValue = "10", paramLabel = "PERCENT",
            description = "Which forget split: 1, 5 or 10 (forget01, forget05, forget10). Default: ${DEFAULT-VALUE}.")
    int forgetSplit;

    @Option(names = "--forget-per-author", defaultValue = "20", paramLabel = "N",
            description = "Forget questions per fictitious author (TOFU has 20). Default: ${DEFAULT-VALUE}.")
    int forgetPerAuthor;

    @Option(names = "--retain-per-author", defaultValue = "20", paramLabel = "N",
            description = "Retain questions per fictitious author (15 authors). Default: ${DEFAULT-VALUE}.")
    int retainPerAuthor;

    @Option(names = "--real-world-items", defaultValue = "117", paramLabel = "N",
            description = "Real-authors and world-facts questions, the first N of each (100 and 117)."
                    + " Default: ${DEFAULT-VALUE}.")
    int realWorldItems;

    @Option(names = "--max-new-tokens", defaultValue = "200", paramLabel = "N",
            description = "Longest greedy answer generated for ROUGE-L (TOFU's bound is the 200-token evaluation"
                    + " length). Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--retain-model", paramLabel = "PATH",
            description = "A model never trained on the forget split (TOFU's retain model): with it, the KS test of"
                    + " the forget split's truth ratios under both models is reported (forget_truth_ratio_ks_p).")
    Path retainModel;

    /** The folder the questions come from. */
    Path dataDir() {
        return data != null ? data : ExperimentMemorisationCommand.projectRoot().resolve("data/tofu");
    }

    /** @throws UserException for a size or split out of range, before any model is loaded */
    void check() {
        if (forgetSplit != 1 && forgetSplit != 5 && forgetSplit != 10) {
            throw new UserException("--forget-split takes 1, 5 or 10 (TOFU's forget01, forget05, forget10), got "
                    + forgetSplit);
        }
        if (forgetPerAuthor < 1 || retainPerAuthor < 1 || realWorldItems < 1 || maxNewTokens < 1) {
            throw new UserException("--forget-per-author, --retain-per-author, --real-world-items and"
                    + " --max-new-tokens must be at least 1");
        }
        if (retainModel != null) {
            DataFiles.requireModel(retainModel);
        }
    }

    /** The four splits, in the order they are scored and reported: forget, retain, real authors, world facts. */
    List<TofuSplit> splits() {
        try {
            TofuData tofu = TofuData.load(dataDir());
            return List.of(tofu.forget(forgetSplit, forgetPerAuthor), tofu.retain(retainPerAuthor),
                    tofu.realAuthors().first(realWorldItems), tofu.worldFacts().first(realWorldItems));
        } catch (InvalidDataException | IllegalArgumentException e) {
            throw new UserException(e.getMessage(), e);
        } catch (IOException e) {
            throw new UserException("could not read the TOFU data: " + e.getMessage(), e);
        }
    }
}
