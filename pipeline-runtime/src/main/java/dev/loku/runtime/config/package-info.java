/**
 * Typed configuration, Debezium style. Each field is declared once as a {@link dev.loku.runtime.config.ConfigField}
 * (name, {@link dev.loku.runtime.config.ConfigType type}, default, {@link dev.loku.runtime.config.Validator rule},
 * description; the environment variable follows from the name: {@code ingest.batch.max.requests} ->
 * {@code LOKU_INGEST_BATCH_MAX_REQUESTS}). A service lists its fields in a {@link dev.loku.runtime.config.ConfigGroup}
 * and loads {@link dev.loku.runtime.config.CommonConfig#GROUP} plus its own with
 * {@link dev.loku.runtime.config.LokuConfig#load}: a properties file, environment variables overriding it, defaults
 * last; every bad or missing field is reported at once, naming the field, where the value came from and what is
 * allowed. {@link dev.loku.runtime.config.ConfigDocs} renders the same declarations for {@code --help} and for
 * docs/configuration.md.
 *
 * <p>Adding a service's fields: declare {@code ConfigField} constants in its config record, a {@code GROUP} listing
 * them and {@code GROUPS = List.of(CommonConfig.GROUP, GROUP)}; see {@code dev.loku.ingest.IngestConfig}.
 */
package dev.loku.runtime.config;
