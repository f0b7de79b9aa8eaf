package dev.loku.core.tofu;

import java.util.List;
import java.util.Objects;

/**
 * A named set of TOFU items and how its numbers are aggregated (docs/method.md §5.2).
 *
 * @param name e.g. {@code forget10}, {@code retain}, {@code real_authors}, {@code world_facts}
 * @param kind which aggregation rules apply
 * @param items the questions, in order
 * @param substituted true when the pivot and perturbed answers are not TOFU's own paraphrased and perturbed answers
 *     but the substitute {@link TofuData} builds (the shipped data lacks them for forget and retain)
 */
public record TofuSplit(String name, Kind kind, List<TofuItem> items, boolean substituted) {

    /** The aggregation family of a split. */
    public enum Kind {
        /** The data to be forgotten: probability of the answer; truth ratio reported as mean min(R, 1/R). */
        FORGET,
        /** Fictitious-author data to keep: probability of the answer; truth ratio as mean max(0, 1 − 1/R). */
        RETAIN,
        /**
         * Real-world knowledge (real authors, world facts): probability of the answer normalised over the answer and
         * its perturbations; truth ratio as mean max(0, 1 − 1/R).
         */
        REAL_WORLD
    }

    public TofuSplit {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        items = List.copyOf(items);
        if (items.isEmpty()) {
            throw new IllegalArgumentException("the TOFU split '" + name + "' has no items");
        }
    }

    public int size() {
        return items.size();
    }

    /** The first {@code n} items (all when n is at least the size, one at least). */
    public TofuSplit first(int n) {
        return n >= items.size() ? this : new TofuSplit(name, kind, items.subList(0, Math.max(1, n)), substituted);
    }
}
