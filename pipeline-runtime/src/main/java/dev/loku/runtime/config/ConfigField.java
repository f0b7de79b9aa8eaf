package dev.loku.runtime.config;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One configuration field, declared once with everything about it: name, type, default, validation, description
 * and environment variable (Debezium's {@code Field}, in spirit). Services declare fields as constants in a
 * {@link ConfigGroup}; {@link LokuConfig} reads them from a properties file with environment overrides, and
 * {@link ConfigDocs} renders them for {@code --help} and the operations docs.
 *
 * <pre>{@code
 * public static final ConfigField<Integer> BATCH_MAX_REQUESTS = ConfigField.of("ingest.batch.max.requests", ConfigType.INT)
 *         .defaultValue(8)
 *         .validator(Validator.atLeast(1))
 *         .description("Requests that make a forget set without waiting for ingest.batch.max.wait.")
 *         .build();
 * }</pre>
 *
 * The environment variable is derived from the name ({@code ingest.batch.max.requests} ->
 * {@code LOKU_INGEST_BATCH_MAX_REQUESTS}), so nobody has to keep two spellings in step.
 *
 * @param <T> the value's Java type
 */
public final class ConfigField<T> {

    /** Prefix of every field's environment variable. */
    public static final String ENV_PREFIX = "LOKU_";

    private final String name;
    private final ConfigType<T> type;
    private final Supplier<T> defaultValue;
    private final String defaultText;
    private final Validator<T> validator;
    private final String description;
    private final boolean secret;

    private ConfigField(Builder<T> b) {
        this.name = b.name;
        this.type = b.type;
        this.defaultValue = b.defaultValue;
        this.defaultText = b.defaultText;
        this.validator = b.validator;
        this.description = Objects.requireNonNull(b.description, () -> "field " + b.name + " needs a description");
        this.secret = b.secret;
        if (!name.matches("[a-z][a-z0-9]*(\\.[a-z0-9]+)*")) {
            throw new IllegalArgumentException("field name must be lower-case words separated by dots: " + name);
        }
    }

    /** Starts declaring a field. */
    public static <T> Builder<T> of(String name, ConfigType<T> type) {
        return new Builder<>(name, type);
    }

    public String name() {
        return name;
    }

    public ConfigType<T> type() {
        return type;
    }

    /** The environment variable that overrides the file: {@code LOKU_} + the name upper-cased, dots as underscores. */
    public String envVar() {
        return envVarFor(name);
    }

    /** The environment variable naming convention, for any field name. */
    public static String envVarFor(String fieldName) {
        return ENV_PREFIX + fieldName.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The default, or empty when the field is required. */
    public Optional<T> defaultValue() {
        return defaultValue == null ? Optional.empty() : Optional.ofNullable(defaultValue.get());
    }

    /** True when the field has no default and must be set. */
    public boolean required() {
        return defaultValue == null;
    }

    /** The default as documented (may describe a computed default, e.g. "the host name"). */
    public String defaultText() {
        if (defaultText != null) {
            return defaultText;
        }
        return defaultValue().map(type::format).orElse("");
    }

    /** What values are allowed, in words. */
    public String allowed() {
        return validator == null ? type.expected() : validator.allowed();
    }

    public String description() {
        return description;
    }

    /** A secret's value never appears in errors or docs. */
    public boolean secret() {
        return secret;
    }

    /**
     * Parses and validates {@code text} read from {@code source}.
     *
     * @throws InvalidConfigException.Problem naming the field, the source, and what is allowed
     */
    T parse(String text, String source) {
        String shown = secret ? "(secret)" : "'" + text + "'";
        T value;
        try {
            value = type.parse(text.trim());
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException.Problem(name + " = " + shown + " (" + source + "): " + e.getMessage()
                    + "; allowed: " + allowed());
        }
        validate(value, shown, source);
        return value;
    }

    void validate(T value, String shown, String source) {
        if (validator != null) {
            validator.check(value).ifPresent(why -> {
                throw new InvalidConfigException.Problem(name + " = " + shown + " (" + source + "): " + why
                        + "; allowed: " + validator.allowed());
            });
        }
    }

    @Override
    public String toString() {
        return name;
    }

    /** Declares a field; {@link #build()} checks the declaration is complete. */
    public static final class Builder<T> {
        private final String name;
        private final ConfigType<T> type;
        private Supplier<T> defaultValue;
        private String defaultText;
        private Validator<T> validator;
        private String description;
        private boolean secret;

        private Builder(String name, ConfigType<T> type) {
            this.name = Objects.requireNonNull(name, "name");
            this.type = Objects.requireNonNull(type, "type");
        }

        /** A fixed default; without one the field is required. */
        public Builder<T> defaultValue(T value) {
            Objects.requireNonNull(value, "default");
            this.defaultValue = () -> value;
            return this;
        }

        /** A default computed when the config is read (e.g. the host name), documented as {@code documentedAs}. */
        public Builder<T> computedDefault(Supplier<T> value, String documentedAs) {
            this.defaultValue = Objects.requireNonNull(value, "default");
            this.defaultText = Objects.requireNonNull(documentedAs, "documentedAs");
            return this;
        }

        /**
         * No default and not required: the value is null unless set (a credential or a trust store that only some
         * deployments have). The reader of the field decides what unset means.
         */
        public Builder<T> optional() {
            this.defaultValue = () -> null;
            this.defaultText = "";
            return this;
        }

        public Builder<T> validator(Validator<T> validator) {
            this.validator = validator;
            return this;
        }

        public Builder<T> description(String description) {
            this.description = description;
            return this;
        }

        /** Marks the value as secret (passwords, tokens): never echoed in errors or docs. */
        public Builder<T> secret() {
            this.secret = true;
            return this;
        }

        public ConfigField<T> build() {
            ConfigField<T> field = new ConfigField<>(this);
            if (defaultValue != null && defaultText == null) {
                // A default that breaks the field's own rule is a programming error: fail when the class loads.
                T value = defaultValue.get();
                try {
                    field.validate(value, "'" + type.format(value) + "'", "default");
                } catch (InvalidConfigException.Problem p) {
                    throw new IllegalArgumentException("bad declaration: " + p.getMessage());
                }
            }
            return field;
        }
    }
}
