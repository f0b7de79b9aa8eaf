package dev.loku.cli;

/**
 * System properties every LoKU JVM needs before DJL or Avro is touched. The launcher script passes them too;
 * setting them here as well keeps {@code java -cp ... dev.loku.cli.LokuCli} and in-JVM test calls safe.
 */
final class JvmDefaults {
    /**
     * Apicurio's registry client advises, through java.util.logging straight to stderr, to bring one's own Vert.x
     * instance; its shared default is what a CLI process wants. Held here because JUL keeps loggers only weakly.
     */
    private static final java.util.logging.Logger VERTX_ADVICE =
            java.util.logging.Logger.getLogger("io.apicurio.registry.client.common");

    private JvmDefaults() {}

    static void apply() {
        // DJL phones home for telemetry unless told it is offline (DEPENDENCIES.md §3.2).
        setIfAbsent("ai.djl.offline", "true");
        // Avro 1.12.2 only instantiates generated classes from trusted packages (DEPENDENCIES.md §6).
        setIfAbsent("org.apache.avro.SERIALIZABLE_PACKAGES", "dev.loku.events");
        VERTX_ADVICE.setLevel(java.util.logging.Level.SEVERE);
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
