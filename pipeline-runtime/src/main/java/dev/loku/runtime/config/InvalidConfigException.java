package dev.loku.runtime.config;

import java.util.List;

/**
 * The configuration cannot be used. The message lists every problem, one per line, each naming the field, where its
 * value came from (file or environment variable) and what is allowed, so an operator fixes them all in one go.
 */
public class InvalidConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public InvalidConfigException(String context, List<String> problems) {
        super(context + ":\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    /** Each problem on its own, e.g. {@code ingest.batch.max.requests = '0' (file ingest.properties): not allowed; allowed: >= 1}. */
    public List<String> problems() {
        return problems;
    }

    /** One field's problem, collected by {@link LokuConfig} into an {@link InvalidConfigException}. */
    static final class Problem extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Problem(String message) {
            super(message, null, false, false);
        }
    }
}
