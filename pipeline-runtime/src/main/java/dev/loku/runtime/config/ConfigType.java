package dev.loku.runtime.config;

import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a configuration value is written as text and parsed into a Java value. Each parser throws
 * {@link IllegalArgumentException} with a message saying what was expected; {@link ConfigField} adds the field's
 * name and where the value came from.
 *
 * @param <T> the Java type of the value
 */
public abstract class ConfigType<T> {

    private final String name;
    private final String expected;

    private ConfigType(String name, String expected) {
        this.name = name;
        this.expected = expected;
    }

    /** Short name for documentation, e.g. {@code int} or {@code duration}. */
    public String name() {
        return name;
    }

    /** What a valid value of this type looks like, in words (used in error messages). */
    public String expected() {
        return expected;
    }

    /** Parses the trimmed text; throws {@link IllegalArgumentException} saying what was expected. */
    public abstract T parse(String text);

    /** The value written back as text, such that {@link #parse} reads it again (used for defaults in docs). */
    public String format(T value) {
        return String.valueOf(value);
    }

    public static final ConfigType<String> STRING = new ConfigType<>("string", "text") {
        @Override
        public String parse(String text) {
            return text;
        }
    };

    public static final ConfigType<Integer> INT = new ConfigType<>("int", "a whole number") {
        @Override
        public Integer parse(String text) {
            try {
                return Integer.valueOf(text.replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a whole number (32-bit)");
            }
        }
    };

    public static final ConfigType<Long> LONG = new ConfigType<>("long", "a whole number") {
        @Override
        public Long parse(String text) {
            try {
                return Long.valueOf(text.replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a whole number (64-bit)");
            }
        }
    };

    public static final ConfigType<Double> DOUBLE = new ConfigType<>("double", "a number") {
        @Override
        public Double parse(String text) {
            try {
                double d = Double.parseDouble(text);
                if (!Double.isFinite(d)) {
                    throw new NumberFormatException();
                }
                return d;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a finite number");
            }
        }
    };

    public static final ConfigType<Boolean> BOOLEAN = new ConfigType<>("boolean", "true or false") {
        @Override
        public Boolean parse(String text) {
            return switch (text.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException("not true or false");
            };
        }
    };

    private static final Pattern DURATION_TEXT = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    /**
     * A duration written as a number and a unit ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d}) or
     * in ISO-8601 ({@code PT30S}). A bare number is refused: "30" could mean seconds or milliseconds.
     */
    public static final ConfigType<Duration> DURATION = new ConfigType<>("duration",
            "a number with a unit: 500ms, 30s, 5m, 2h, 1d (or ISO-8601 such as PT30S)") {
        @Override
        public Duration parse(String text) {
            Matcher m = DURATION_TEXT.matcher(text.toLowerCase(Locale.ROOT));
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            try {
                return Duration.parse(text.toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("not a duration; write a number with a unit: 500ms, 30s, 5m, 2h, 1d");
            }
        }

        @Override
        public String format(Duration d) {
            if (d.toMillis() % 86_400_000 == 0 && !d.isZero()) {
                return d.toDays() + "d";
            }
            if (d.toMillis() % 3_600_000 == 0 && !d.isZero()) {
                return d.toHours() + "h";
            }
            if (d.toMillis() % 60_000 == 0 && !d.isZero()) {
                return d.toMinutes() + "m";
            }
            if (d.toMillis() % 1000 == 0) {
                return d.toSeconds() + "s";
            }
            return d.toMillis() + "ms";
        }
    };

    /** A file-system path; relative paths are resolved by the reader against the working directory. */
    public static final ConfigType<Path> PATH = new ConfigType<>("path", "a file-system path") {
        @Override
        public Path parse(String text) {
            try {
                return Path.of(text);
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("not a valid path (" + e.getReason() + ")");
            }
        }
    };

    /** An absolute URI such as {@code http://registry:8080/apis/registry/v3}. */
    public static final ConfigType<java.net.URI> URI = new ConfigType<>("uri", "an absolute URI such as http://host:port/path") {
        @Override
        public java.net.URI parse(String text) {
            try {
                java.net.URI uri = new java.net.URI(text);
                if (!uri.isAbsolute() || uri.getHost() == null) {
                    throw new IllegalArgumentException("not an absolute URI with a host, such as http://host:port/path");
                }
                return uri;
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("not a valid URI (" + e.getReason() + ")");
            }
        }
    };

    /** Comma-separated values, blanks around commas ignored; an empty text is the empty list. */
    public static final ConfigType<List<String>> LIST = new ConfigType<>("list", "comma-separated values") {
        @Override
        public List<String> parse(String text) {
            if (text.isBlank()) {
                return List.of();
            }
            return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        }

        @Override
        public String format(List<String> value) {
            return String.join(",", value);
        }
    };
}
