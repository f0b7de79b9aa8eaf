package dev.loku.core.objective;

import java.util.List;
import java.util.Locale;

/** The objectives by the names the CLI and the pipeline use (LOKU-SPEC §4). */
public final class Objectives {

    public static final List<String> NAMES = List.of("ihl", "ga", "gd", "kl", "npo");

    private Objectives() {
    }

    /**
     * @throws IllegalArgumentException naming the accepted values when {@code name} is unknown
     */
    public static UnlearningObjective byName(String name) {
        switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "ihl":
                return new InvertedHingeLoss();
            case "ga":
                return new GradientAscent();
            case "gd":
                return new GradientDifference();
            case "kl":
                return new RetainKlDivergence();
            case "npo":
                return new NpoGradientDifference();
            default:
                throw new IllegalArgumentException(
                        "unknown unlearning method '" + name + "'; use one of " + String.join(", ", NAMES));
        }
    }
}
