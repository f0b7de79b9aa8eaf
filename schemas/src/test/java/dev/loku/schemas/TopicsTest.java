package dev.loku.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.AuditEvent;
import dev.loku.events.DeadLetter;
import dev.loku.events.ErasureRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void catalogueHasExactlyTheTopicsOfTheDesignWithTheirKeys() {
        // DESIGN.md §3, in order: name -> key meaning
        Map<String, String> design = new java.util.LinkedHashMap<>();
        design.put("loku.erasure-requests", "request id");
        design.put("loku.forget-sets", "model id");
        design.put("loku.importance", "model id");
        design.put("loku.candidates", "model id");
        design.put("loku.verifications", "model id");
        design.put("loku.model-versions", "model id");
        design.put("loku.audit", "request id");
        design.put("loku.progress", "forget set id");
        design.put("loku.dead-letters", "original record key");
        assertEquals(List.copyOf(design.keySet()), Topics.ALL.stream().map(Topic::name).toList());
        Topics.ALL.forEach(t -> assertEquals(design.get(t.name()), t.keyMeaning(), t.name()));
        Set<Class<?>> valueTypes = Topics.ALL.stream().map(Topic::valueType).collect(Collectors.toSet());
        assertEquals(9, valueTypes.size(), "each event has its own topic");
    }

    @Test
    void retentionKeepsPersonalDataBrieflyAndTheAuditTrailLong() {
        long week = Duration.ofDays(7).toMillis();
        assertEquals(week, Topics.ERASURE_REQUESTS.retentionMs());
        assertTrue(Topics.DEAD_LETTERS.retentionMs() > 0
                && Topics.DEAD_LETTERS.retentionMs() <= Topics.ERASURE_REQUESTS.retentionMs(),
                "dead letters may hold request bytes: they must not outlive the requests topic");
        assertTrue(Topics.AUDIT.retentionMs() >= Duration.ofDays(3650).toMillis());
        assertEquals(CleanupPolicy.DELETE, Topics.AUDIT.cleanupPolicy(), "the audit trail is append-only");
        assertEquals(CleanupPolicy.COMPACT, Topics.MODEL_VERSIONS.cleanupPolicy());
        for (Topic<?, ?> t : Topics.ALL) {
            if (t != Topics.MODEL_VERSIONS) {
                assertEquals(CleanupPolicy.DELETE, t.cleanupPolicy(), t.name());
                assertTrue(t.retentionMs() > 0, t.name() + " keeps data for a bounded time");
            }
        }
    }

    @Test
    void modelKeyedTopicsAreCoPartitioned() {
        Set<Integer> counts = Set.of(Topics.FORGET_SETS, Topics.IMPORTANCE, Topics.CANDIDATES, Topics.VERIFICATIONS,
                Topics.MODEL_VERSIONS).stream().map(Topic::partitions).collect(Collectors.toSet());
        assertEquals(Set.of(Topics.MODEL_KEYED_PARTITIONS), counts);
    }

    @Test
    void newTopicCarriesPartitionsAndSettings() {
        NewTopic nt = Topics.MODEL_VERSIONS.newTopic();
        assertEquals("loku.model-versions", nt.name());
        assertEquals(Topics.MODEL_KEYED_PARTITIONS, nt.numPartitions());
        assertEquals((short) -1, nt.replicationFactor(), "replication is left to the broker's default");
        assertEquals("compact", nt.configs().get("cleanup.policy"));
        assertEquals("-1", nt.configs().get("retention.ms"));
        assertEquals((short) 3, Topics.AUDIT.newTopic((short) 3).replicationFactor());
        assertEquals(Long.toString(Duration.ofDays(3650).toMillis()), Topics.AUDIT.newTopic().configs().get("retention.ms"));
    }

    @Test
    void keySerdesNeedNoRegistry() {
        Serde<String> key = Topics.ERASURE_REQUESTS.keySerde();
        byte[] bytes = key.serializer().serialize("loku.erasure-requests", "3f0c7b9e-0000-4000-8000-000000000001");
        assertEquals("3f0c7b9e-0000-4000-8000-000000000001", key.deserializer().deserialize("t", bytes));
        Serde<byte[]> raw = Topics.DEAD_LETTERS.keySerde();
        assertArrayEquals(new byte[] {1, 2, (byte) 0xff}, raw.deserializer().deserialize("t", new byte[] {1, 2, (byte) 0xff}));
    }

    @Test
    void valueSerdeComesFromTheFactoryForThatTopic() {
        Topic<?, ?>[] seen = new Topic<?, ?>[1];
        ValueSerdeFactory factory = new ValueSerdeFactory() {
            @Override
            public <V extends org.apache.avro.specific.SpecificRecord> Serde<V> valueSerde(Topic<?, V> topic) {
                seen[0] = topic;
                return null;
            }
        };
        Topics.AUDIT.valueSerde(factory);
        assertSame(Topics.AUDIT, seen[0]);
    }

    @Test
    void typesSchemasAndSubjectsLineUp() {
        assertEquals(ErasureRequest.class, Topics.ERASURE_REQUESTS.valueType());
        assertEquals(ErasureRequest.getClassSchema(), Topics.ERASURE_REQUESTS.valueSchema());
        assertEquals("loku.erasure-requests-value", Topics.ERASURE_REQUESTS.valueSubject());
        assertEquals(AuditEvent.class, Topics.byName("loku.audit").orElseThrow().valueType());
        assertEquals(DeadLetter.class, Topics.DEAD_LETTERS.valueType());
        assertEquals(byte[].class, Topics.DEAD_LETTERS.keyType());
        assertEquals(Optional.empty(), Topics.byName("loku.nope"));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Topic<>("x", String.class, "id", AuditEvent.class, 0,
                Duration.ofDays(1), CleanupPolicy.DELETE));
        assertThrows(IllegalArgumentException.class, () -> new Topic<>("x", Long.class, "id", AuditEvent.class, 1,
                Duration.ofDays(1), CleanupPolicy.DELETE));
    }
}
