package dev.loku.runtime.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.AuditEvent;
import dev.loku.events.AuditStatus;
import dev.loku.events.ErasureRequest;
import dev.loku.events.PipelineStage;
import dev.loku.runtime.artifact.ArtifactRetry;
import dev.loku.runtime.artifact.ArtifactStore;
import dev.loku.runtime.artifact.DirectoryArtifactStore;
import dev.loku.runtime.artifact.RetryingArtifactStore;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.service.Health;
import dev.loku.runtime.testing.PrometheusText;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.runtime.testing.TestClients;
import dev.loku.runtime.testing.TestTopics;
import dev.loku.runtime.testing.WithLokuStack;
import dev.loku.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job runner on the real broker: outputs and the input offset are one transaction (a runner stopped mid-job
 * leaves nothing visible and commits nothing; another instance of the group then completes the job, and exactly one
 * output becomes visible), and a job longer than {@code max.poll.interval.ms} keeps its partition because the
 * runner keeps polling with the partitions paused.
 */
@WithLokuStack
class TransactionalJobRunnerIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private final AuditEmitter audit = new AuditEmitter("it-runner", Clock.systemUTC(), null);

    @Test
    void aRunnerStoppedMidJobCommitsNothingAndTheNextInstanceCompletesTheJobOnce(StackEndpoints stack,
                                                                               RegistrySerdes serdes) throws Exception {
        String in = TestTopics.create(stack, "it.runner-in", 1);
        String out = TestTopics.create(stack, "it.runner-out", 1);
        String group = "it-runner-" + UUID.randomUUID();
        ErasureRequest request = send(stack, serdes, in, SampleEvents.erasureRequest("m"));

        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        TransactionalJobRunner<String, ErasureRequest> first = runner(stack, serdes, in, group, "a", input -> {
            started.countDown();
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
            }
            return List.of(accepted(input.value(), out));
        }).build();
        first.start();
        assertTrue(started.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the first instance never started the job");
        assertEquals(Health.Status.UP, first.health().status(), first.health().reason());

        assertEquals(List.of(), readCommitted(stack, serdes, out, 1, Duration.ofSeconds(1)), "nothing visible mid-job");
        long t0 = System.nanoTime();
        first.stop();
        long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(stopMillis < 7_000, "stop took " + stopMillis + " ms");
        assertTrue(interrupted.await(5, TimeUnit.SECONDS), "stop interrupts the job");
        assertEquals(Health.Status.STOPPED, first.health().status());
        assertEquals(Map.of(), committedOffsets(stack, group), "a stopped job commits no offset");

        TransactionalJobRunner<String, ErasureRequest> second = runner(stack, serdes, in, group, "b",
                input -> List.of(accepted(input.value(), out))).build();
        second.start();
        try {
            assertEquals(1, readCommitted(stack, serdes, out, 1, WAIT).size(), "the second instance completes the job");
            waitFor(() -> second.committed() == 1);
            List<ConsumerRecord<String, AuditEvent>> visible = readCommitted(stack, serdes, out, 2, Duration.ofSeconds(2));
            assertEquals(1, visible.size(), "exactly one output is visible");
            assertEquals(request.getRequestId(), visible.get(0).value().getRequestId());
            assertEquals(Map.of(new TopicPartition(in, 0), 1L), committedOffsets(stack, group));
        } finally {
            second.stop();
        }
    }

    @Test
    void aJobLongerThanMaxPollIntervalKeepsItsPartitionAndAFailingJobIsHandledNotFatal(StackEndpoints stack,
                                                                                     RegistrySerdes serdes) throws Exception {
        String in = TestTopics.create(stack, "it.runner-long-in", 1);
        String out = TestTopics.create(stack, "it.runner-long-out", 1);
        String group = "it-runner-long-" + UUID.randomUUID();
        ErasureRequest failing = send(stack, serdes, in, SampleEvents.erasureRequest("m"));
        ErasureRequest slow = send(stack, serdes, in, SampleEvents.erasureRequest("m"));
        AtomicBoolean failed = new AtomicBoolean();

        TransactionalJobRunner<String, ErasureRequest> runner = runner(stack, serdes, in, group, "long", input -> {
            if (input.value().getRequestId().equals(failing.getRequestId())) {
                throw new IllegalStateException("the job broke on Ada Testperson's data");
            }
            Thread.sleep(3_500); // 3.5 x max.poll.interval.ms
            return List.of(accepted(input.value(), out));
        }).consumerConfig(Map.of(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 1_000))
                .onFailure((input, raw, error) -> {
                    failed.set(true);
                    return List.of(AuditEmitter.topicRecord(audit.event(input.value().getRequestId(),
                            PipelineStage.UNLEARNING, AuditStatus.FAILED).reason(AuditReason.failure(error)).build()).to(out));
                })
                .build();
        runner.start();
        try {
            List<ConsumerRecord<String, AuditEvent>> outputs = readCommitted(stack, serdes, out, 2, WAIT);
            assertEquals(2, outputs.size());
            assertEquals(AuditStatus.FAILED, outputs.get(0).value().getStatus());
            assertEquals("failed with IllegalStateException", outputs.get(0).value().getReason());
            assertEquals(slow.getRequestId(), outputs.get(1).value().getRequestId());
            assertEquals(AuditStatus.ACCEPTED, outputs.get(1).value().getStatus());
            assertTrue(failed.get());
            waitFor(() -> runner.committed() == 2);
            assertEquals(0, runner.revocations(), "the long job caused no rebalance");
            assertEquals(Map.of(new TopicPartition(in, 0), 2L), committedOffsets(stack, group));
            assertEquals(Health.Status.UP, runner.health().status(), runner.health().reason());
            PrometheusText scrape = PrometheusText.parse(runner.metrics().scrape());
            assertEquals(1.0, scrape.value("loku_job_seconds_count", Map.of("service", "it-runner", "outcome", "failed")));
            assertTrue(scrape.samples().stream().anyMatch(s -> s.name().startsWith("kafka_consumer_")
                    && s.labels().get("client_id") != null), "the runner's consumer publishes its own metrics");
        } finally {
            runner.stop();
        }
    }

    @Test
    void aJobThatFindsTheArtifactStoreUnwritableWaitsAndRunsAgainInsteadOfFailing(StackEndpoints stack,
                                                                                RegistrySerdes serdes,
                                                                                @TempDir Path dir) throws Exception {
        String in = TestTopics.create(stack, "it.runner-store-in", 1);
        String out = TestTopics.create(stack, "it.runner-store-out", 1);
        String group = "it-runner-store-" + UUID.randomUUID();
        ErasureRequest request = send(stack, serdes, in, SampleEvents.erasureRequest("m"));
        DirectoryArtifactStore directory = new DirectoryArtifactStore(dir.resolve("store"));
        ArtifactStore store = RetryingArtifactStore.over(directory, new ArtifactRetry(2, Duration.ofMillis(10)));
        // The store's scratch folder replaced by a file: every write fails, as on a full or read-only volume.
        Path scratch = directory.root().resolve("tmp");
        Files.delete(scratch);
        Files.writeString(scratch, "not a folder");
        AtomicInteger runs = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        TransactionalJobRunner<String, ErasureRequest> runner = runner(stack, serdes, in, group, "store", input -> {
            runs.incrementAndGet();
            store.put(input.value().getRequestId().toString().getBytes(StandardCharsets.UTF_8));
            return List.of(accepted(input.value(), out));
        }).onFailure((input, raw, error) -> {
            failed.set(true);
            return List.of();
        }).build();
        runner.start();
        try {
            waitFor(() -> runs.get() >= 3);
            assertEquals(List.of(), readCommitted(stack, serdes, out, 1, Duration.ofMillis(500)), "nothing published");
            assertEquals(Map.of(), committedOffsets(stack, group), "the input is not committed while the store is out");
            assertEquals(Health.Status.UP, runner.health().status(), runner.health().reason());
            Files.delete(scratch);
            Files.createDirectory(scratch);

            List<ConsumerRecord<String, AuditEvent>> outputs = readCommitted(stack, serdes, out, 2, WAIT);
            assertEquals(1, outputs.size(), "one output once the store works");
            assertEquals(request.getRequestId(), outputs.get(0).value().getRequestId());
            assertEquals(AuditStatus.ACCEPTED, outputs.get(0).value().getStatus());
            waitFor(() -> runner.committed() == 1);
            assertEquals(Map.of(new TopicPartition(in, 0), 1L), committedOffsets(stack, group));
            assertFalse(failed.get(), "the failure handler never ran: the input was not at fault");
            PrometheusText scrape = PrometheusText.parse(runner.metrics().scrape());
            assertTrue(scrape.value("loku_job_seconds_count", Map.of("service", "it-runner",
                    "outcome", "storage_unavailable")) >= 3);
        } finally {
            runner.stop();
        }
    }

    private TopicRecord<String, AuditEvent> accepted(ErasureRequest r, String out) {
        return AuditEmitter.topicRecord(audit.event(r.getRequestId(), PipelineStage.UNLEARNING, AuditStatus.ACCEPTED)
                .build()).to(out);
    }

    private static TransactionalJobRunner.Builder<String, ErasureRequest> runner(
            StackEndpoints stack, RegistrySerdes serdes, String in, String group, String instance,
            TransactionalJobRunner.Job<String, ErasureRequest> job) {
        return TransactionalJobRunner.builder("it-runner", Topics.ERASURE_REQUESTS, serdes)
                .inputTopicName(in)
                .kafka(Map.of("bootstrap.servers", stack.bootstrapServers()))
                .groupId(group)
                .instanceId(instance)
                .pollInterval(Duration.ofMillis(100))
                .deadLetters(new DeadLetterPublisher("it-runner/" + instance, Clock.systemUTC(), null))
                .job(job);
    }

    private static ErasureRequest send(StackEndpoints stack, RegistrySerdes serdes, String topic, ErasureRequest r)
            throws Exception {
        try (KafkaProducer<String, ErasureRequest> p = TestClients.producer(stack, Topics.ERASURE_REQUESTS.keySerde().serializer(),
                serdes.valueSerializer(Topics.ERASURE_REQUESTS))) {
            p.send(new ProducerRecord<>(topic, r.getRequestId().toString(), r)).get(30, TimeUnit.SECONDS);
        }
        return r;
    }

    private static List<ConsumerRecord<String, AuditEvent>> readCommitted(StackEndpoints stack, RegistrySerdes serdes,
                                                                          String topic, int count, Duration timeout) {
        try (KafkaConsumer<String, AuditEvent> c = TestClients.consumer(stack, Topics.AUDIT.keySerde().deserializer(),
                serdes.valueDeserializer(Topics.AUDIT))) {
            return TestClients.read(c, topic, 0, 0, count, r -> true, timeout);
        }
    }

    private static Map<TopicPartition, Long> committedOffsets(StackEndpoints stack, String group) throws Exception {
        try (Admin admin = stack.admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, Long> out = new java.util.HashMap<>();
            offsets.forEach((tp, om) -> {
                if (om != null) {
                    out.put(tp, om.offset());
                }
            });
            return out;
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(condition.getAsBoolean(), "condition not met within " + WAIT);
    }
}
