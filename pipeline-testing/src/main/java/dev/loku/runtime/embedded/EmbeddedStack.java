package dev.loku.runtime.embedded;

import dev.loku.runtime.kafka.TopicProvisioner;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.schemas.Topic;
import dev.loku.schemas.Topics;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole infrastructure of LoKU Stream in one object: an in-process KRaft broker, a registry process, and every
 * catalogue topic created. Tests share one per JVM (see the JUnit extension in dev.loku.runtime.testing); the
 * embedded demo starts one and runs the services against it. Closing stops the registry, then the broker.
 */
public final class EmbeddedStack implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStack.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    private final EmbeddedKafka kafka;
    private final EmbeddedRegistry registry;
    private final StackEndpoints endpoints;

    private EmbeddedStack(EmbeddedKafka kafka, EmbeddedRegistry registry) {
        this.kafka = kafka;
        this.registry = registry;
        this.endpoints = new StackEndpoints(kafka.bootstrapServers(), registry.registryUrl(), registry.ccompatUrl());
    }

    /**
     * Starts registry and broker (the registry boots in its own process while the broker starts here), then creates
     * the catalogue topics and waits for each partition's leader.
     *
     * @throws IllegalStateException saying what is missing (registry distribution, Java 21+) or what failed
     */
    public static EmbeddedStack start() {
        long t0 = System.nanoTime();
        EmbeddedRegistry registry = EmbeddedRegistry.launch();
        EmbeddedKafka kafka = null;
        try {
            kafka = EmbeddedKafka.start();
            registry = EmbeddedRegistry.ready(registry, READY_TIMEOUT);
            try (Admin admin = kafka.admin()) {
                TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(60));
                TopicProvisioner.awaitLeaders(admin, Topics.ALL.stream().map(Topic::name).toList(),
                        Duration.ofSeconds(60));
            }
            EmbeddedStack stack = new EmbeddedStack(kafka, registry);
            LOG.info("event=embedded_stack_started bootstrap={} registry={} seconds={}", kafka.bootstrapServers(),
                    registry.registryUrl(), String.format("%.1f", (System.nanoTime() - t0) / 1e9));
            return stack;
        } catch (RuntimeException | Error e) {
            // Errors too (e.g. a class missing from a hand-made class path): never leave a process or folder behind.
            registry.close();
            if (kafka != null) {
                kafka.close();
            }
            throw e;
        }
    }

    /** Where broker and registry answer. */
    public StackEndpoints endpoints() {
        return endpoints;
    }

    /** Registry-backed value serdes for catalogue topics. */
    public RegistrySerdes serdes() {
        return endpoints.serdes();
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public EmbeddedRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        try {
            registry.close();
        } finally {
            kafka.close();
        }
    }
}
