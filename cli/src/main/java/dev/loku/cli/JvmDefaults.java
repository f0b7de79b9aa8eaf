package dev.loku.cli;

/**
 * System properties every LoKU JVM needs before DJL or Avro is touched (offline DJL, trusted Avro packages). The
 * launcher script passes them too; setting them here as well keeps {@code java -cp ... dev.loku.cli.LokuCli} and
 * in-JVM test calls safe. The values live in {@link dev.loku.runtime.service.JvmDefaults}, shared with the services'
 * runnable jars.
 */
final class JvmDefaults {

    private JvmDefaults() {}

    static void apply() {
        dev.loku.runtime.service.JvmDefaults.apply();
    }
}
