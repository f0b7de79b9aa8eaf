package dev.loku.runtime.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.kafka.TopicProvisioner;
import dev.loku.runtime.testing.RoundTripCheck;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The same round trip as {@code EmbeddedStackIT}, against the upstream container images: Kafka (KRaft, the version
 * of our client) and Apicurio Registry 3.3.3. Where Docker is absent the class is skipped, not failed.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerStackIT {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer(DockerImageName.parse("apache/kafka:" + AppInfoParser.getVersion()));

    @Container
    static final GenericContainer<?> REGISTRY = new GenericContainer<>(DockerImageName.parse("apicurio/apicurio-registry:3.3.3"))
            .withExposedPorts(8080)
            .waitingFor(Wait.forHttp("/apis/registry/v3/system/info").forPort(8080).forStatusCode(200))
            .withStartupTimeout(Duration.ofMinutes(3));

    @Test
    void erasureRequestRoundTripsThroughContainers() throws Exception {
        String base = "http://" + REGISTRY.getHost() + ":" + REGISTRY.getMappedPort(8080);
        StackEndpoints stack = new StackEndpoints(KAFKA.getBootstrapServers(), base + "/apis/registry/v3",
                base + "/apis/ccompat/v7");
        stack.registryClient().setGlobalCompatibility("FULL_TRANSITIVE");
        try (Admin admin = stack.admin()) {
            TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(60));
        }
        RoundTripCheck.Result result = RoundTripCheck.run(stack);
        assertEquals(result.sent(), result.received().value());
    }
}
