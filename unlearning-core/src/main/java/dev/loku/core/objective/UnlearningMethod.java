package dev.loku.core.objective;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The unlearning objectives the engine can train (docs/method.md §4), each with the short id that the command line, the
 * engine's reports and the worker's hyper-parameters use. The one place where a method's id meets its objective.
 */
public enum UnlearningMethod {
    /** LoKU's inverted hinge loss plus retain NLL (§1). */
    IHL("ihl", InvertedHingeLoss::new),
    /** Gradient ascent on the forget set alone (§4). */
    GA("ga", GradientAscent::new),
    /** Gradient ascent on forget plus descent on retain (§4). */
    GD("gd", GradientDifference::new),
    /** Gradient ascent on forget plus KL to the frozen model on retain (§4). */
    KL("kl", RetainKlDivergence::new),
    /** NPO on forget plus retain NLL (§4). */
    NPO("npo", NpoGradientDifference::new),
    /** Fine-tuning on refusal answers to the forget questions plus retain NLL ("I don't know", §4). */
    IDK("idk", RefusalTuning::new);

    private final String id;
    private final Supplier<UnlearningObjective> objective;

    UnlearningMethod(String id, Supplier<UnlearningObjective> objective) {
        this.id = id;
        this.objective = objective;
    }

    /** The short id: ihl, ga, gd, kl, npo or idk. */
    public String id() {
        return id;
    }

    /** A new instance of the method's objective (objectives are stateless, so any instance will do). */
    public UnlearningObjective objective() {
        return objective.get();
    }

    /** Every id, in declaration order. */
    public static List<String> ids() {
        return Arrays.stream(values()).map(UnlearningMethod::id).toList();
    }

    /**
     * The method with this id, case-insensitive.
     *
     * @throws IllegalArgumentException naming the accepted ids when {@code id} is none of them
     */
    public static UnlearningMethod byId(String id) {
        String wanted = id == null ? "" : id.toLowerCase(Locale.ROOT);
        for (UnlearningMethod m : values()) {
            if (m.id.equals(wanted)) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "unknown unlearning method '" + id + "'; use one of " + String.join(", ", ids()));
    }

    @Override
    public String toString() {
        return id;
    }
}
