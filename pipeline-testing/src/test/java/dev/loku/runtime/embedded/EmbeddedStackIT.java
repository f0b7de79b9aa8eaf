package dev.loku.runtime.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.kafka.TopicProvisioner;
import dev.loku.runtime.serde.SchemaRegistryClient;
import dev.loku.runtime.testing.RoundTripCheck;
import dev.loku.runtime.testing.WithLokuStack;
import dev.loku.schemas.Topic;
import dev.loku.schemas.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/** The shared embedded stack: real broker, real registry process, catalogue topics, wire format. */
@WithLokuStack
class EmbeddedStackIT {

    @Test
    void erasureRequestRoundTripsThroughRealBrokerAndRegistryInConfluentWireFormat(StackEndpoints stack) throws Exception {
        RoundTripCheck.Result result = RoundTripCheck.run(stack);
        assertTrue(result.schemaId() > 0);
        // The content really travelled (and came back intact), which is why that topic's retention is short.
        assertEquals(result.sent().getTexts(), result.received().value().getTexts());
    }

    @Test
    void registryEnforcesFullTransitiveCompatibility(StackEndpoints stack) throws Exception {
        SchemaRegistryClient ccompat = stack.registryClient();
        assertEquals("FULL_TRANSITIVE", ccompat.globalCompatibility());
        String subject = "it.compat-" + System.nanoTime() + "-value";
        int v1 = ccompat.register(subject, resource("evolution/Probe-v1.avsc"));
        // adding an optional field is fine both ways
        assertTrue(ccompat.register(subject, resource("evolution/Probe-v2-compatible.avsc")) > 0);
        // turning a string into a long is refused, and the registry says so
        SchemaRegistryClient.RegistryException refused = assertThrows(SchemaRegistryClient.RegistryException.class,
                () -> ccompat.register(subject, resource("evolution/Probe-v3-incompatible.avsc")));
        assertEquals(409, refused.status(), refused.getMessage());
        assertEquals(v1, ccompat.schemaById(v1).id());
    }

    @Test
    void catalogueTopicsExistWithTheirSettingsAndProvisioningIsIdempotent(StackEndpoints stack) throws Exception {
        try (Admin admin = stack.admin()) {
            Set<String> names = Topics.ALL.stream().map(Topic::name).collect(Collectors.toSet());
            Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
            Map<ConfigResource, Config> configs = admin.describeConfigs(names.stream()
                    .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList()).all().get(30, TimeUnit.SECONDS);
            for (Topic<?, ?> t : Topics.ALL) {
                assertEquals(t.partitions(), described.get(t.name()).partitions().size(), t.name());
                described.get(t.name()).partitions().forEach(p -> assertTrue(p.leader() != null
                        && !p.leader().isEmpty(), t.name() + "-" + p.partition() + " has a leader once the stack is up"));
                Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, t.name()));
                assertEquals(t.cleanupPolicy().configValue(), c.get("cleanup.policy").value(), t.name());
                assertEquals(Long.toString(t.retentionMs()), c.get("retention.ms").value(), t.name());
            }
            assertEquals(java.util.List.of(), TopicProvisioner.ensureCatalogue(admin, Duration.ofSeconds(30)),
                    "a second run creates nothing");
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = EmbeddedStackIT.class.getClassLoader().getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
