package dev.loku.core.tofu;

import java.util.List;
import java.util.Objects;

/**
 * One TOFU question with the answers its metrics score (docs/method.md §5.2).
 *
 * @param question the question
 * @param answer the true answer: scored for probability and ROUGE
 * @param pivot the answer the truth ratio puts over the perturbed ones: TOFU's paraphrased answer on forget and
 *     retain, the true answer itself on real authors and world facts
 * @param perturbed wrong answers in the same style (TOFU: 5 on forget/retain, 3 on real authors/world facts)
 */
public record TofuItem(String question, String answer, String pivot, List<String> perturbed) {

    public TofuItem {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(answer, "answer");
        Objects.requireNonNull(pivot, "pivot");
        perturbed = List.copyOf(perturbed);
        if (perturbed.isEmpty()) {
            throw new IllegalArgumentException("a TOFU item needs at least one perturbed answer");
        }
    }
}
