package dev.loku.runtime.catalogue;

import dev.loku.events.AdapterInitialization;
import dev.loku.events.RetryDirection;
import dev.loku.events.UnlearningObjective;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How a model is unlearned (docs/method.md §2, §4): the objective, the adapter initialisation, LoRA rank, learning rate,
 * epoch budget, the retain tolerance the verdict allows, and how many attempts a forget set gets, each retry
 * strengthened by {@link RetryStrengthening}. Attempts are numbered from 1 (ForgetSetReady.attempt).
 *
 * @param method          the unlearning objective (LoKU: INVERTED_HINGE_LOSS)
 * @param initialization  how the adapter starts (LoKU: FILA)
 * @param loraRank        LoRA rank r at attempt 1
 * @param learningRate    AdamW learning rate at attempt 1
 * @param maxEpochs       epoch budget at attempt 1 (training stops earlier when forgotten)
 * @param retainTolerance largest allowed drop of retain-set memorisation accuracy for a PASS (0.05 = 5 points), as
 *                        the engine's {@code RetainTolerance} and the eval service apply it
 * @param generalTolerance largest allowed rise of the mean NLL (nats per token) on the model's general-text set for
 *                        a PASS: the general-ability guard
 * @param maxAttempts     attempts a forget set gets before it FAILS
 * @param retry           how each retry strengthens (or, after a utility failure, weakens) the profile
 */
public record UnlearningProfile(UnlearningObjective method, AdapterInitialization initialization, int loraRank,
                                double learningRate, int maxEpochs, double retainTolerance, double generalTolerance,
                                int maxAttempts, RetryStrengthening retry) {

    /** The general tolerance when the catalogue gives none: a tenth of a nat per token. */
    public static final double DEFAULT_GENERAL_TOLERANCE = 0.10;

    public UnlearningProfile {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(initialization, "initialization");
        Objects.requireNonNull(retry, "retry");
    }

    /** The profile for {@code attempt} after failures to forget: {@link #forAttempt(int, RetryDirection)} STRONGER. */
    public UnlearningProfile forAttempt(int attempt) {
        return forAttempt(attempt, RetryDirection.STRONGER);
    }

    /**
     * The profile for {@code attempt} (1-based): attempt 1 is this profile. STRONGER (after a failure to forget)
     * multiplies the learning rate by {@code retry.learningRateFactor^(n-1)}, and epochs and rank likewise (rounded
     * up); GENTLER (after the retain or general-ability guard failed) divides the learning rate and the epochs by
     * the same factors (epochs rounded up, at least 1) and keeps the rank. Either way the attempt moves past every
     * earlier attempt in its direction: stronger than any attempt before it, or gentler. Bounded by
     * {@link #maxAttempts}: asking for more is a bug in the caller.
     */
    public UnlearningProfile forAttempt(int attempt, RetryDirection direction) {
        if (attempt < 1 || attempt > maxAttempts) {
            throw new IllegalArgumentException("attempt " + attempt + " is outside 1.." + maxAttempts);
        }
        int k = attempt - 1;
        if (direction == RetryDirection.GENTLER) {
            return new UnlearningProfile(method, initialization, loraRank,
                    learningRate / Math.pow(retry.learningRateFactor(), k),
                    Math.max(1, (int) Math.ceil(maxEpochs / Math.pow(retry.maxEpochsFactor(), k))),
                    retainTolerance, generalTolerance, maxAttempts, retry);
        }
        return new UnlearningProfile(method, initialization,
                (int) Math.ceil(loraRank * Math.pow(retry.loraRankFactor(), k)),
                learningRate * Math.pow(retry.learningRateFactor(), k),
                (int) Math.ceil(maxEpochs * Math.pow(retry.maxEpochsFactor(), k)),
                retainTolerance, generalTolerance, maxAttempts, retry);
    }

    /** True when a FAIL at {@code attempt} may be retried. */
    public boolean canRetryAfter(int attempt) {
        return attempt < maxAttempts;
    }

    /** The profile as strings, for UnlearnCompleted.hyperparameters. */
    public Map<String, String> asHyperparameters() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("method", method.name());
        m.put("initialization", initialization.name());
        m.put("lora_rank", Integer.toString(loraRank));
        m.put("learning_rate", Double.toString(learningRate));
        m.put("max_epochs", Integer.toString(maxEpochs));
        m.put("retain_tolerance", Double.toString(retainTolerance));
        m.put("general_tolerance", Double.toString(generalTolerance));
        return m;
    }

    /**
     * How each retry after a FAIL strengthens the profile, as factors applied once per extra attempt.
     *
     * @param learningRateFactor multiplies the learning rate (>= 1)
     * @param maxEpochsFactor    multiplies the epoch budget (>= 1)
     * @param loraRankFactor     multiplies the LoRA rank (>= 1)
     */
    public record RetryStrengthening(double learningRateFactor, double maxEpochsFactor, double loraRankFactor) {
        /** Used when the catalogue gives no {@code retry} object. */
        public static final RetryStrengthening DEFAULT = new RetryStrengthening(2.0, 1.5, 1.0);
    }
}
