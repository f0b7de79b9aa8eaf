package dev.loku.runtime.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node KRaft Kafka broker (combined broker + controller) running inside this JVM, on a random
 * loopback port, with its data in a temporary folder deleted on {@link #close()}. Serves the tests and the
 * embedded demo. Topics are not auto-created, as on a production cluster: create them through the catalogue
 * ({@code TopicProvisioner}) or an Admin client.
 *
 * <p>Its logging goes through SLF4J under {@code kafka}, {@code org.apache.kafka} and {@code state.change.logger};
 * keep those at WARN in the logging configuration, or a start writes hundreds of INFO lines.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    /**
     * Settings a one-node cluster needs. The internal topics default to replication 3, with which every consumer
     * group, transaction and share group on a single broker waits for ever; fewer partitions
     * for them make the first group and the first transaction start faster.
     */
    static final Map<String, String> SINGLE_NODE = singleNodeSettings();

    /** The super user of a broker started with SASL (the test kit's). */
    public static final String SASL_ADMIN = "plain-admin";
    public static final String SASL_ADMIN_PASSWORD = "plain-admin-secret";

    private final KafkaClusterTestKit cluster;
    private final Path dataDir;
    private final String bootstrapServers;

    private EmbeddedKafka(KafkaClusterTestKit cluster, Path dataDir) {
        this.cluster = cluster;
        this.dataDir = dataDir;
        this.bootstrapServers = cluster.bootstrapServers();
    }

    private static Map<String, String> singleNodeSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("offsets.topic.replication.factor", "1");
        s.put("offsets.topic.num.partitions", "6");
        s.put("transaction.state.log.replication.factor", "1");
        s.put("transaction.state.log.min.isr", "1");
        s.put("transaction.state.log.num.partitions", "6");
        s.put("share.coordinator.state.topic.replication.factor", "1");
        s.put("share.coordinator.state.topic.min.isr", "1");
        s.put("group.initial.rebalance.delay.ms", "0");
        s.put("default.replication.factor", "1");
        s.put("min.insync.replicas", "1");
        s.put("auto.create.topics.enable", "false");
        return Map.copyOf(s);
    }

    /** Starts a broker with the single-node settings. */
    public static EmbeddedKafka start() {
        return start(Map.of());
    }

    /** Starts a broker; {@code overrides} are broker settings applied over the single-node ones. */
    public static EmbeddedKafka start(Map<String, String> overrides) {
        return start(overrides, SecurityProtocol.PLAINTEXT);
    }

    /**
     * Starts a broker whose client listener speaks {@code protocol}. With {@code SASL_PLAINTEXT} the test kit
     * enables SASL/PLAIN and the standard authorizer with no access without an ACL; its super user is
     * {@value #SASL_ADMIN} (password {@value #SASL_ADMIN_PASSWORD}), and further users can be declared with the
     * listener's JAAS setting in {@code overrides}. {@link #admin()} then needs credentials: use {@link #admin(Map)}.
     */
    public static EmbeddedKafka start(Map<String, String> overrides, SecurityProtocol protocol) {
        long t0 = System.nanoTime();
        Path dataDir;
        try {
            dataDir = Files.createTempDirectory("loku-kafka-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a temporary folder for the embedded Kafka broker: " + e.getMessage(), e);
        }
        KafkaClusterTestKit cluster = null;
        try {
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBaseDirectory(dataDir)
                    // what a released broker runs, not the test kit's default of unreleased features
                    .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                    .setBrokerSecurityProtocol(protocol)
                    // the controller listener too: with the authorizer on, an anonymous broker-to-controller
                    // connection would be refused CLUSTER_ACTION and the broker would never start
                    .setControllerSecurityProtocol(protocol)
                    .build())
                    .setDeleteOnClose(true);
            SINGLE_NODE.forEach(builder::setConfigProp);
            overrides.forEach(builder::setConfigProp);
            cluster = builder.build();
            formatQuietly(cluster);
            cluster.startup();
            cluster.waitForReadyBrokers();
            EmbeddedKafka kafka = new EmbeddedKafka(cluster, dataDir);
            LOG.info("event=embedded_kafka_started bootstrap={} seconds={}", kafka.bootstrapServers,
                    String.format("%.1f", (System.nanoTime() - t0) / 1e9));
            return kafka;
        } catch (Exception e) {
            closeQuietly(cluster);
            deleteRecursively(dataDir);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("the embedded Kafka broker did not start: " + e, e);
        } catch (Error e) {
            closeQuietly(cluster);
            deleteRecursively(dataDir);
            throw e;
        }
    }

    /**
     * Formats the storage. Kafka's formatter prints its progress to standard output, which would land in the demo's
     * console; it is captured instead, and shown only if formatting fails.
     */
    private static synchronized void formatQuietly(KafkaClusterTestKit cluster) throws Exception {
        PrintStream console = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            cluster.format();
        } catch (Exception e) {
            console.print(captured.toString(StandardCharsets.UTF_8));
            throw e;
        } finally {
            System.setOut(console);
        }
    }

    /** {@code host:port} of the broker's client listener. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** A new Admin client for this broker; the caller closes it. */
    public Admin admin() {
        return admin(Map.of());
    }

    /** A new Admin client with extra settings (a secured broker's credentials); the caller closes it. */
    public Admin admin(Map<String, Object> settings) {
        Map<String, Object> c = new java.util.HashMap<>(settings);
        c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Duration.ofSeconds(30).toMillis());
        return Admin.create(c);
    }

    /**
     * Stops the broker (the controller of the combined node keeps running), leaves it down for {@code down}, then
     * starts it again on the same port and data folder and waits until it serves. Clients see what they would see
     * of a restarted production broker: refused connections, then the same log, offsets and open transactions.
     */
    public void restartBroker(Duration down) throws InterruptedException {
        long t0 = System.nanoTime();
        for (var broker : cluster.brokers().values()) {
            broker.shutdown();
            broker.awaitShutdown();
        }
        LOG.info("event=embedded_kafka_broker_stopped bootstrap={}", bootstrapServers);
        Thread.sleep(down.toMillis());
        for (var broker : cluster.brokers().values()) {
            broker.startup();
        }
        try {
            cluster.waitForReadyBrokers();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("the embedded Kafka broker did not come back: " + e.getCause(), e);
        }
        LOG.info("event=embedded_kafka_broker_restarted bootstrap={} seconds={}", bootstrapServers,
                String.format("%.1f", (System.nanoTime() - t0) / 1e9));
    }

    /** The broker's data folder (deleted on close). */
    public Path dataDir() {
        return dataDir;
    }

    @Override
    public void close() {
        closeQuietly(cluster);
        deleteRecursively(dataDir);
        LOG.info("event=embedded_kafka_stopped bootstrap={}", bootstrapServers);
    }

    private static void closeQuietly(KafkaClusterTestKit cluster) {
        if (cluster == null) {
            return;
        }
        try {
            cluster.close();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn("event=embedded_kafka_close_failed error={}", e.toString());
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort; the OS cleans temp folders eventually
                }
            });
        } catch (IOException e) {
            LOG.warn("event=temp_dir_not_deleted dir={} error={}", dir, e.toString());
        }
    }
}
