package dev.loku.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code loku version}: the build's version and the versions of the engines it was built against. */
@Command(name = "version", description = "Print the LoKU Stream version and its key dependency versions.")
final class VersionCommand implements Runnable {

    @Override
    public void run() {
        for (String line : new Provider().getVersion()) {
            System.out.println(line);
        }
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties p = new Properties();
            try (InputStream in = VersionCommand.class.getResourceAsStream("/loku-version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new String[] {
                    "loku " + p.getProperty("version", "unknown"),
                    "java " + System.getProperty("java.version"),
                    "djl " + p.getProperty("djl") + " (libtorch " + p.getProperty("libtorch") + ")",
                    "kafka " + p.getProperty("kafka"),
                    "avro " + p.getProperty("avro"),
                    "apicurio registry " + p.getProperty("apicurio.registry") + " (serdes " + p.getProperty("apicurio.serde") + ")"
            };
        }
    }
}
