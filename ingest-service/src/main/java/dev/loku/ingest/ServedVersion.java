package dev.loku.ingest;

import dev.loku.events.ModelVersionPromoted;
import dev.loku.runtime.PipelineIds;
import java.util.Optional;

/**
 * Which version a model's next forget set starts from (docs/pipeline.md, step 1): the later of what the batcher
 * learnt from PASS verdicts and what {@code loku.model-versions} (compacted, the version serving platforms follow)
 * says was promoted. The topic is the durable source: it outlives the batcher's state (an application reset, a lost
 * changelog) and the 30-day retention of the verdicts, so a reset ingest never starts a set from {@code v0} again and
 * silently undoes the erasures before it. The batcher's own knowledge covers the moment between a PASS verdict and
 * its promotion record reaching ingest's copy of the topic (both are written in one transaction, but read by
 * different consumers). Versions are ordered by their number ({@link PipelineIds#versionNumber}).
 */
final class ServedVersion {

    /** The outcome of a check: the version to use, and whether the two sources disagreed, for the log. */
    record Choice(String version, String disagreement) {
    }

    private ServedVersion() {
    }

    /**
     * @param fromVerdicts the batcher's current version
     * @param promoted     the model's record in {@code loku.model-versions}, if it has one
     */
    static Choice choose(String fromVerdicts, Optional<ModelVersionPromoted> promoted) {
        if (promoted.isEmpty()) {
            return new Choice(fromVerdicts, null);
        }
        String durable = promoted.get().getVersion();
        if (durable.equals(fromVerdicts)) {
            return new Choice(durable, null);
        }
        long d = number(durable);
        long v = number(fromVerdicts);
        if (v > d) {
            // A PASS whose promotion this instance has not read yet.
            return new Choice(fromVerdicts, null);
        }
        // The topic is ahead (the state was reset or lost) or names another version of the same number (two
        // promotions raced): the topic is what is served, so later sets build on it.
        return new Choice(durable, d > v ? "behind_promotions" : "promotions_name_another_version");
    }

    /** The version's number; a name outside the pipeline's scheme counts as 0 (never newer than a promotion). */
    private static long number(String version) {
        try {
            return PipelineIds.versionNumber(version);
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }
}
