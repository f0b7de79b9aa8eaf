package dev.loku.runtime.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A rule a parsed configuration value must satisfy, with the words that say what is allowed. The words appear both
 * in the error for a bad value ({@code allowed: ...}) and in the generated field documentation, so the two never
 * disagree.
 *
 * @param <T> the value type
 */
public interface Validator<T> {

    /** What is allowed, in words, e.g. {@code >= 1} or {@code one of: a, b}. */
    String allowed();

    /** Empty when {@code value} is allowed, otherwise what is wrong with it (without repeating the rule). */
    Optional<String> check(T value);

    /** A validator from a predicate: {@code value} is allowed iff {@code test} holds. */
    static <T> Validator<T> of(String allowed, Predicate<T> test) {
        Objects.requireNonNull(allowed, "allowed");
        Objects.requireNonNull(test, "test");
        return new Validator<>() {
            @Override
            public String allowed() {
                return allowed;
            }

            @Override
            public Optional<String> check(T value) {
                return test.test(value) ? Optional.empty() : Optional.of("not allowed");
            }
        };
    }

    /** Both rules. */
    default Validator<T> and(Validator<T> other) {
        Validator<T> self = this;
        return new Validator<>() {
            @Override
            public String allowed() {
                return self.allowed() + " and " + other.allowed();
            }

            @Override
            public Optional<String> check(T value) {
                return self.check(value).or(() -> other.check(value));
            }
        };
    }

    static <N extends Number & Comparable<N>> Validator<N> atLeast(N min) {
        return of(">= " + min, v -> v.compareTo(min) >= 0);
    }

    static <N extends Number & Comparable<N>> Validator<N> between(N min, N max) {
        return of("between " + min + " and " + max, v -> v.compareTo(min) >= 0 && v.compareTo(max) <= 0);
    }

    static Validator<Duration> positiveDuration() {
        return of("> 0", d -> !d.isNegative() && !d.isZero());
    }

    static Validator<String> nonBlank() {
        return of("not blank", s -> !s.isBlank());
    }

    static Validator<String> oneOf(List<String> values) {
        return of("one of: " + String.join(", ", values), values::contains);
    }

    /** Kafka's {@code bootstrap.servers}: {@code host:port[,host:port...]}. */
    static Validator<List<String>> hostPortList() {
        return of("host:port pairs separated by commas", list -> !list.isEmpty()
                && list.stream().allMatch(hp -> hp.matches("[^:\\s]+:\\d{1,5}")));
    }

    /** An id made of letters, digits, '.', '_' and '-' (safe in topic names, file names and logs). */
    static Validator<String> identifier() {
        return of("letters, digits, '.', '_' or '-' (1 to 128 characters)", s -> s.matches("[A-Za-z0-9._-]{1,128}"));
    }
}
