package dev.loku.core.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Extraction likelihood EL_n (Jang et al.; docs/method.md §5.1). For a sequence x of T measured tokens (after its
 * context c):
 * <pre>
 *   EL_n(x) = (1 / (T − n)) Σ_{i=1}^{T−1} Overlap_n( f(c + x_{[0,i)}), x_{[i,T)} )
 * </pre>
 * where f greedily continues the prefix up to total length T (T − i new tokens) and Overlap_n counts the n-grams of
 * the generation, with multiplicity, that occur among the true suffix's n-grams, divided by the suffix's n-gram
 * count. Prefixes whose true suffix has fewer than n tokens contribute nothing. A sequence with T ≤ n has no
 * defined EL (NaN; skipped by {@link SequenceMeans#mean}).
 *
 * <p>{@link #perSequence} batches every contributing prefix of every sequence through the generator;
 * {@link #naivePerSequence} is the definition itself, one prefix per call, kept as the reference.
 */
public final class ExtractionLikelihood {

    /** The paper reports EL_10 (§5.1). */
    public static final int DEFAULT_N = 10;

    private final int n;
    private final int batchSize;

    public ExtractionLikelihood(int n, int batchSize) {
        if (n < 1 || batchSize < 1) {
            throw new IllegalArgumentException("n and batch size must be >= 1, got " + n + ", " + batchSize);
        }
        this.n = n;
        this.batchSize = batchSize;
    }

    public int n() {
        return n;
    }

    private record Job(int sequence, int prefixLength, int[] prefix) {
    }

    /**
     * EL_n of every target, generating all contributing prefixes in batches of {@code batchSize}. Prefixes whose
     * suffix is shorter than n are never generated, since they cannot contribute. Jobs are ordered longest prefix
     * first, so a batch holds prefixes of similar length and similar number of new tokens.
     */
    public double[] perSequence(List<ExtractionTarget> targets, ContinuationGenerator generator) {
        List<Job> jobs = new ArrayList<>();
        for (int s = 0; s < targets.size(); s++) {
            ExtractionTarget target = targets.get(s);
            int t = target.measuredLength();
            for (int i = 1; i <= t - n; i++) {
                jobs.add(new Job(s, i, Arrays.copyOf(target.tokens(), target.contextLength() + i)));
            }
        }
        jobs.sort(Comparator.comparingInt((Job j) -> j.prefix().length).reversed()
                .thenComparingInt(j -> targets.get(j.sequence()).measuredLength() - j.prefixLength()));
        double[] numerators = new double[targets.size()];
        for (int from = 0; from < jobs.size(); from += batchSize) {
            List<Job> batch = jobs.subList(from, Math.min(jobs.size(), from + batchSize));
            List<int[]> prefixes = new ArrayList<>(batch.size());
            int[] maxNew = new int[batch.size()];
            for (int k = 0; k < batch.size(); k++) {
                Job job = batch.get(k);
                prefixes.add(job.prefix());
                maxNew[k] = targets.get(job.sequence()).measuredLength() - job.prefixLength();
            }
            List<int[]> generated = call(generator, prefixes, maxNew);
            for (int k = 0; k < batch.size(); k++) {
                Job job = batch.get(k);
                ExtractionTarget target = targets.get(job.sequence());
                numerators[job.sequence()] += overlap(generated.get(k), suffix(target, job.prefixLength()), n);
            }
        }
        double[] out = new double[targets.size()];
        for (int s = 0; s < out.length; s++) {
            int t = targets.get(s).measuredLength();
            out[s] = t - n > 0 ? numerators[s] / (t - n) : Double.NaN;
        }
        return out;
    }

    /** Mean EL_n over the targets with a defined value. */
    public double mean(List<ExtractionTarget> targets, ContinuationGenerator generator) {
        return SequenceMeans.mean(perSequence(targets, generator));
    }

    /**
     * The definition, literally: every prefix i = 1..T−1 of every sequence generated on its own, the overlap skipped
     * where the suffix has no n-gram, the sum divided by T − n.
     */
    public static double[] naivePerSequence(List<ExtractionTarget> targets, int n, ContinuationGenerator generator) {
        double[] out = new double[targets.size()];
        for (int s = 0; s < targets.size(); s++) {
            ExtractionTarget target = targets.get(s);
            int t = target.measuredLength();
            double sum = 0;
            for (int i = 1; i <= t - 1; i++) {
                int[] prefix = Arrays.copyOf(target.tokens(), target.contextLength() + i);
                int[] generated = call(generator, List.of(prefix), new int[] {t - i}).get(0);
                double o = overlap(generated, suffix(target, i), n);
                if (!Double.isNaN(o)) {
                    sum += o;
                }
            }
            out[s] = t - n > 0 ? sum / (t - n) : Double.NaN;
        }
        return out;
    }

    /**
     * Overlap_n(a, b): the number of n-grams of {@code generated} (with multiplicity) that are among the n-grams of
     * {@code reference}, divided by the number of n-grams of {@code reference} (with multiplicity). NaN when the
     * reference is shorter than n.
     */
    public static double overlap(int[] generated, int[] reference, int n) {
        int referenceGrams = reference.length - n + 1;
        if (referenceGrams <= 0) {
            return Double.NaN;
        }
        Set<Gram> grams = new HashSet<>();
        for (int i = 0; i < referenceGrams; i++) {
            grams.add(new Gram(reference, i, n));
        }
        int hits = 0;
        for (int i = 0; i + n <= generated.length; i++) {
            if (grams.contains(new Gram(generated, i, n))) {
                hits++;
            }
        }
        return (double) hits / referenceGrams;
    }

    private static int[] suffix(ExtractionTarget target, int prefixLength) {
        return Arrays.copyOfRange(target.tokens(), target.contextLength() + prefixLength, target.tokens().length);
    }

    private static List<int[]> call(ContinuationGenerator generator, List<int[]> prefixes, int[] maxNew) {
        List<int[]> out = generator.generate(prefixes, maxNew);
        if (out == null || out.size() != prefixes.size()) {
            throw new IllegalStateException("the generator returned " + (out == null ? "null" : out.size())
                    + " continuations for " + prefixes.size() + " prefixes");
        }
        for (int k = 0; k < out.size(); k++) {
            if (out.get(k).length > maxNew[k]) {
                throw new IllegalStateException("the generator returned " + out.get(k).length
                        + " new tokens where at most " + maxNew[k] + " were asked for");
            }
        }
        return out;
    }

    /** An n-gram as a view on an int array, with value equality. */
    private static final class Gram {
        private final int[] data;
        private final int from;
        private final int n;
        private final int hash;

        Gram(int[] data, int from, int n) {
            this.data = data;
            this.from = from;
            this.n = n;
            int h = 1;
            for (int i = from; i < from + n; i++) {
                h = 31 * h + data[i];
            }
            this.hash = h;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Gram g) || g.n != n || g.hash != hash) {
                return false;
            }
            return Arrays.equals(data, from, from + n, g.data, g.from, g.from + n);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
