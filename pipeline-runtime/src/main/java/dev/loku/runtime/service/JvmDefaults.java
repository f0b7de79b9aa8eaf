package dev.loku.runtime.service;

/**
 * System properties every LoKU JVM needs before DJL or Avro is touched: the {@code loku} CLI and each service's
 * runnable jar ({@link ServiceMain}) apply them first thing. A value already given on the command line
 * ({@code -Dai.djl.offline=...}) wins.
 */
public final class JvmDefaults {

    /** DJL phones home for telemetry unless told it is offline. */
    public static final String DJL_OFFLINE = "ai.djl.offline";
    /** Avro 1.12.2 only instantiates generated classes from trusted packages. */
    public static final String AVRO_TRUSTED_PACKAGES = "org.apache.avro.SERIALIZABLE_PACKAGES";
    /** The package of the generated event classes. */
    public static final String EVENTS_PACKAGE = "dev.loku.events";

    /**
     * Apicurio's registry client advises, through java.util.logging straight to stderr, to bring one's own Vert.x
     * instance; its shared default is what a LoKU process wants. Held here because JUL keeps loggers only weakly.
     */
    private static final java.util.logging.Logger VERTX_ADVICE =
            java.util.logging.Logger.getLogger("io.apicurio.registry.client.common");

    private JvmDefaults() {
    }

    /** Sets each property unless it is set already; quiets the Vert.x advice. Safe to call more than once. */
    public static void apply() {
        setIfAbsent(DJL_OFFLINE, "true");
        setIfAbsent(AVRO_TRUSTED_PACKAGES, EVENTS_PACKAGE);
        VERTX_ADVICE.setLevel(java.util.logging.Level.SEVERE);
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
