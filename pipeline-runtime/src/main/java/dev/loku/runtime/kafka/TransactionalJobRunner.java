package dev.loku.runtime.kafka;

import dev.loku.runtime.artifact.ArtifactStoreUnavailableException;
import dev.loku.runtime.artifact.StorageUnavailableException;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.service.Health;
import dev.loku.runtime.serde.RegistryUnavailableException;
import dev.loku.runtime.service.Service;
import dev.loku.schemas.Topic;
import dev.loku.schemas.ValueSerdeFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop for long jobs shared by the Fisher, worker and eval services (docs/pipeline.md, "Delivery").
 * For each input record:
 * <ol>
 *   <li>the record is decoded; one that cannot be is dead-lettered (and its offset committed with the dead letter);</li>
 *   <li>every assigned partition is <b>paused</b> and the {@link Job} runs on its own thread, while this thread
 *       keeps calling {@code poll}: no records come back, but the consumer stays in its group however long the job
 *       takes ({@code max.poll.interval.ms} is about the gap between polls, not the job's length), so the group
 *       does not rebalance the job away;</li>
 *   <li>the job's output records and the input's offset are committed in <b>one transaction</b>
 *       ({@code sendOffsetsToTransaction} with the consumer's group metadata, which also makes the broker refuse
 *       the commit of a member that lost the partition in a rebalance);</li>
 *   <li>a job that throws is handed to the {@link FailureHandler}, whose records (audit FAILED, a dead letter...)
 *       are committed with the offset in the same way; the loop carries on.</li>
 * </ol>
 * Nothing is committed for a job that did not finish: if the partition is revoked or lost mid-job, or
 * {@link #stop()} is called, the job is interrupted and its result discarded, and the next owner of the partition
 * runs it again. Jobs must therefore be idempotent (same input, same ids: see {@link dev.loku.runtime.PipelineIds})
 * and should respond to interruption. A job's side effects outside Kafka (artifacts) are content-addressed, so a
 * re-run rewrites the same bytes.
 *
 * <p>Inputs are read with {@code isolation.level=read_committed}, one record per poll (jobs are long; there is
 * nothing to gain from batches), with the cooperative-sticky assignor so a rebalance moves only the partitions
 * that change owner. The producer's transactional id is {@code <group>-<instance id>}: keep the instance id stable
 * across restarts, so a restarted instance fences its predecessor and aborts the transaction it left open.
 *
 * <pre>{@code
 * TransactionalJobRunner<String, ImportanceReady> worker = TransactionalJobRunner
 *         .builder("worker", Topics.IMPORTANCE, serdes)
 *         .kafka(common.kafkaClientBase())
 *         .groupId("loku-worker")
 *         .instanceId(common.instanceId())
 *         .job(input -> {
 *             UnlearnCompleted done = train(input.value());            // hours; checks Thread.interrupted()
 *             return List.of(TopicRecord.of(Topics.CANDIDATES, done.getModelId(), done),
 *                            AuditEmitter.topicRecord(audit.event(...).build()));
 *         })
 *         .onFailure((input, raw, error) -> List.of(AuditEmitter.topicRecord(audit.event(...)
 *                 .reason(AuditReason.failure(error)).build())))
 *         .deadLetters(new DeadLetterPublisher("worker/" + common.instanceId(), clock, metrics))
 *         .build();
 * ServiceRunner.run(worker, common.httpPort());
 * }</pre>
 *
 * @param <K> the input topic's key type
 * @param <V> the input topic's value type
 */
public final class TransactionalJobRunner<K, V extends SpecificRecord> implements Service {

    /** The first pause before a record whose schema the registry did not serve is read again; doubled each time. */
    static final Duration REGISTRY_FIRST_PAUSE = Duration.ofMillis(500);
    /** The longest such pause. */
    static final Duration REGISTRY_MAX_PAUSE = Duration.ofSeconds(30);
    /**
     * The first pause before a job that found the artifact store out of order runs again (after the store's own
     * {@code artifacts.retry.*} tries); doubled each time.
     */
    static final Duration STORAGE_FIRST_PAUSE = Duration.ofSeconds(1);
    /** The longest such pause. */
    static final Duration STORAGE_MAX_PAUSE = Duration.ofMinutes(2);

    /** The work for one input record. */
    @FunctionalInterface
    public interface Job<K, V> {
        /**
         * Does the work and returns the records to publish, committed atomically with the input's offset. May take
         * hours; should stop early when its thread is interrupted (stop, or the partition moved away).
         */
        List<TopicRecord<?, ?>> run(ConsumerRecord<K, V> input) throws Exception;
    }

    /** What to publish when a job threw: committed with the input's offset, so a failing input is not retried forever. */
    @FunctionalInterface
    public interface FailureHandler<K, V> {
        List<TopicRecord<?, ?>> onFailure(ConsumerRecord<K, V> input, ConsumerRecord<byte[], byte[]> raw, Exception error);
    }

    /** What to publish for an input that cannot be decoded. */
    @FunctionalInterface
    public interface UndecodableHandler {
        List<TopicRecord<?, ?>> onUndecodable(UndecodableRecord record);
    }

    private static final Logger LOG = LoggerFactory.getLogger(TransactionalJobRunner.class);
    private static final int COMMIT_ATTEMPTS = 3;

    private final String name;
    private final String inputTopic;
    private final RecordDecoder<K, V> decoder;
    /** Consecutive inputs whose schema the registry did not serve (0 once one decodes). */
    private int registryWaits;
    /** Consecutive runs of a job that found the artifact store out of order (0 once a job ends otherwise). */
    private int storageWaits;
    private final ValueSerdeFactory serdes;
    private final Map<String, Object> consumerConfig;
    private final Map<String, Object> producerConfig;
    private final Job<K, V> job;
    private final FailureHandler<K, V> onFailure;
    private final UndecodableHandler onUndecodable;
    private final DeadLetters deadLetters;
    private final OutputStamp stamp;
    private final ServiceMetrics metrics;
    /** The Kafka clients' own metrics published on /metrics, closed with the clients. */
    private final List<AutoCloseable> clientMetrics = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Duration pollInterval;
    private final Duration stopTimeout;

    private final Map<String, Serializer<Object>> valueSerializers = new HashMap<>();
    private final Set<TopicPartition> assigned = ConcurrentHashMap.newKeySet();
    private final AtomicLong revocations = new AtomicLong();
    private final AtomicLong committedJobs = new AtomicLong();
    private final ExecutorService jobThread;

    private volatile Thread loop;
    private volatile boolean running;
    private volatile Health.Status terminal;
    private volatile String failure = "";
    private volatile long lastPollNanos;
    private volatile double lag;
    private volatile InFlight inFlight;
    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> producer;

    /** The job in progress and whether its partition has been taken away meanwhile. */
    private static final class InFlight {
        final TopicPartition partition;
        volatile boolean revoked;

        InFlight(TopicPartition partition) {
            this.partition = partition;
        }
    }

    private TransactionalJobRunner(Builder<K, V> b) {
        this.name = b.name;
        this.inputTopic = b.inputTopicName;
        this.decoder = RecordDecoder.forTopic(b.inputTopic, b.serdes);
        this.serdes = b.serdes;
        this.job = Objects.requireNonNull(b.job, "job");
        this.metrics = b.metrics != null ? b.metrics : new ServiceMetrics(b.name);
        DeadLetters letters = Objects.requireNonNull(b.deadLetters, "deadLetters");
        this.deadLetters = letters;
        this.stamp = b.stamp;
        this.onFailure = b.onFailure != null ? b.onFailure : (input, raw, error) -> List.of(letters.failed(raw, error));
        this.onUndecodable = b.onUndecodable != null ? b.onUndecodable : bad -> List.of(letters.undecodable(bad));
        this.pollInterval = b.pollInterval;
        this.stopTimeout = b.stopTimeout;

        Map<String, Object> c = new HashMap<>(b.kafka);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, Objects.requireNonNull(b.groupId, "groupId"));
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, b.groupId + "-" + b.instanceId + "-consumer");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        c.putAll(b.consumerOverrides);
        this.consumerConfig = c;

        Map<String, Object> p = new HashMap<>(b.kafka);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, b.groupId + "-" + b.instanceId);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, b.groupId + "-" + b.instanceId + "-producer");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.putAll(b.producerOverrides);
        this.producerConfig = p;
        this.jobThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "loku-job-" + b.name + "-" + b.instanceId);
            t.setDaemon(true); // a job that ignores interruption must not keep the JVM alive
            return t;
        });
    }

    /** Starts declaring a runner for {@code name} reading {@code inputTopic}. */
    public static <K, V extends SpecificRecord> Builder<K, V> builder(String name, Topic<K, V> inputTopic,
                                                                     ValueSerdeFactory serdes) {
        return new Builder<>(name, inputTopic, serdes);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ServiceMetrics metrics() {
        return metrics;
    }

    /** Starts the loop thread; returns at once. */
    @Override
    public synchronized void start() {
        if (loop != null) {
            throw new IllegalStateException(name + " was already started");
        }
        running = true;
        metrics.consumerLag(() -> lag);
        metrics.up(() -> health().isUp() ? 1 : 0);
        loop = new Thread(this::runLoop, "loku-runner-" + name);
        loop.start();
    }

    /**
     * Stops promptly: interrupts the job, aborts an open transaction, commits nothing, leaves the group. Waits for
     * the loop to finish (bounded by the stop timeout).
     */
    @Override
    public void stop() {
        Thread t;
        synchronized (this) {
            running = false;
            t = loop;
        }
        if (t == null) {
            terminal = Health.Status.STOPPED;
            return;
        }
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            t.join(stopTimeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.warn("event=runner_stop_slow service={} waited_ms={}", name, stopTimeout.toMillis());
        }
        jobThread.shutdownNow();
    }

    @Override
    public Health health() {
        Health.Status end = terminal;
        if (end != null) {
            return Health.of(end, end == Health.Status.FAILED ? failure : "stopped");
        }
        if (lastPollNanos == 0) {
            return Health.of(Health.Status.STARTING, "consumer has not polled yet");
        }
        long sincePoll = System.nanoTime() - lastPollNanos;
        if (sincePoll > Math.max(pollInterval.toNanos() * 10, TimeUnit.SECONDS.toNanos(10))) {
            return Health.of(Health.Status.DOWN, "consumer has not polled for " + TimeUnit.NANOSECONDS.toSeconds(sincePoll) + "s");
        }
        if (assigned.isEmpty()) {
            return Health.of(Health.Status.DOWN, "no partitions of " + inputTopic + " assigned");
        }
        return Health.up();
    }

    /** Partitions revoked or lost since start (a long job must not cause any). */
    public long revocations() {
        return revocations.get();
    }

    /** Inputs whose outputs and offset were committed (jobs, failures and dead letters alike). */
    public long committed() {
        return committedJobs.get();
    }

    /** Records waiting in the assigned partitions at the last poll (what {@code loku_consumer_lag} reports). */
    public double lag() {
        return lag;
    }

    /** The partitions currently assigned. */
    public Set<TopicPartition> assignment() {
        return Set.copyOf(assigned);
    }

    private void runLoop() {
        try {
            producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
            producer.initTransactions();
            consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            clientMetrics.add(metrics.kafkaClient(producer));
            clientMetrics.add(metrics.kafkaClient(consumer));
            if (!running) {
                return;
            }
            consumer.subscribe(List.of(inputTopic), new Listener());
            LOG.info("event=runner_started service={} topic={} group={}", name, inputTopic,
                    consumerConfig.get(ConsumerConfig.GROUP_ID_CONFIG));
            while (running) {
                for (ConsumerRecord<byte[], byte[]> raw : poll()) {
                    if (!running) {
                        break;
                    }
                    if (assigned.contains(new TopicPartition(raw.topic(), raw.partition()))) {
                        process(raw);
                    }
                }
            }
        } catch (WakeupException e) {
            // stop() woke the consumer: leave the loop
        } catch (ProducerFencedException | FencedInstanceIdException e) {
            fail("another instance uses this runner's transactional id (" + e.getClass().getSimpleName()
                    + "); give each instance its own service.instance.id");
        } catch (RuntimeException | Error e) {
            fail(e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            closeClients();
            if (terminal == null) {
                terminal = Health.Status.STOPPED;
            }
            LOG.info("event=runner_stopped service={} status={}", name, terminal);
        }
    }

    private Iterable<ConsumerRecord<byte[], byte[]>> poll() {
        var records = consumer.poll(pollInterval);
        lastPollNanos = System.nanoTime();
        long total = 0;
        for (TopicPartition tp : assigned) {
            OptionalLong l = consumer.currentLag(tp);
            total += l.orElse(0);
        }
        lag = total;
        return records;
    }

    private void process(ConsumerRecord<byte[], byte[]> raw) {
        TopicPartition tp = new TopicPartition(raw.topic(), raw.partition());
        DecodeResult<K, V> decoded;
        try {
            decoded = decoder.decode(raw);
        } catch (RegistryUnavailableException e) {
            awaitRegistry(raw, tp, e);
            return;
        }
        registryWaits = 0;
        if (decoded.undecodable().isPresent()) {
            commit(onUndecodable.onUndecodable(decoded.undecodable().get()), raw, tp);
            return;
        }
        ConsumerRecord<K, V> input = decoded.decoded().orElseThrow();
        InFlight current = new InFlight(tp);
        inFlight = current;
        consumer.pause(consumer.assignment());
        long started = System.nanoTime();
        Future<List<TopicRecord<?, ?>>> future = jobThread.submit(() -> job.run(input));
        try {
            while (!future.isDone()) {
                try {
                    poll(); // paused: returns nothing, keeps the membership and runs rebalance callbacks
                } catch (WakeupException e) {
                    // stop() woke the consumer mid-job: abort the job, then let the loop end
                    future.cancel(true);
                    metrics.jobSeconds("aborted", seconds(started));
                    LOG.warn("event=job_aborted service={} topic={} partition={} offset={} cause=stopping", name,
                            raw.topic(), raw.partition(), raw.offset());
                    throw e;
                }
                if (!running || current.revoked) {
                    future.cancel(true);
                    metrics.jobSeconds("aborted", seconds(started));
                    LOG.warn("event=job_aborted service={} topic={} partition={} offset={} cause={}", name, raw.topic(),
                            raw.partition(), raw.offset(), running ? "partition_revoked" : "stopping");
                    return;
                }
            }
            List<TopicRecord<?, ?>> outputs;
            try {
                outputs = future.get();
                storageWaits = 0;
                metrics.jobSeconds("succeeded", seconds(started));
            } catch (ExecutionException e) {
                Exception cause = e.getCause() instanceof Exception ex ? ex : new RuntimeException(e.getCause());
                if (ArtifactStoreUnavailableException.in(cause) && !current.revoked) {
                    metrics.jobSeconds("storage_unavailable", seconds(started));
                    awaitStorage(raw, tp, cause);
                    return;
                }
                storageWaits = 0;
                metrics.jobSeconds("failed", seconds(started));
                LOG.warn("event=job_failed service={} topic={} partition={} offset={} error={}", name, raw.topic(),
                        raw.partition(), raw.offset(), cause.getClass().getSimpleName());
                outputs = failureOutputs(input, raw, cause);
            }
            if (current.revoked) {
                return;
            }
            commit(outputs == null ? List.of() : outputs, raw, tp);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
        } catch (CancellationException e) {
            // cancelled by stop(): nothing to commit
        } finally {
            inFlight = null;
            if (running) {
                consumer.resume(consumer.assignment());
            }
        }
    }

    /**
     * The registry did not answer for {@code raw}'s schema: the record is not bad, so it is neither run nor
     * dead-lettered. The consumer goes back to it and, paused, keeps polling (so it stays in its group) for a pause
     * that doubles with each consecutive failure, from {@link #REGISTRY_FIRST_PAUSE} up to {@link #REGISTRY_MAX_PAUSE};
     * then the record is read again. Nothing is committed meanwhile.
     */
    private void awaitRegistry(ConsumerRecord<byte[], byte[]> raw, TopicPartition tp, RegistryUnavailableException e) {
        registryWaits++;
        long pauseMs = doublingPauseMs(registryWaits, REGISTRY_FIRST_PAUSE, REGISTRY_MAX_PAUSE);
        LOG.warn("event=registry_unavailable service={} topic={} partition={} offset={} attempt={} retry_in_ms={} "
                + "reason=\"{}\"", name, raw.topic(), raw.partition(), raw.offset(), registryWaits, pauseMs,
                e.getMessage());
        pauseThenReread(raw, tp, pauseMs);
    }

    /**
     * The job found the artifact store out of order ({@link ArtifactStoreUnavailableException}: a full or unwritable
     * volume, after the store's own retries). The forget set is not at fault, so neither the failure handler runs
     * nor anything is committed: as for an unreachable registry, the consumer goes back to the input and the job
     * runs again after a pause that doubles with each consecutive run that meets the same, from
     * {@link #STORAGE_FIRST_PAUSE} up to {@link #STORAGE_MAX_PAUSE}. Jobs are idempotent (their ids come from the
     * input), so the later run writes what this one would have.
     */
    private void awaitStorage(ConsumerRecord<byte[], byte[]> raw, TopicPartition tp, Exception e) {
        storageWaits++;
        long pauseMs = doublingPauseMs(storageWaits, STORAGE_FIRST_PAUSE, STORAGE_MAX_PAUSE);
        // Class names only: an exception's message may quote data.
        LOG.warn("event=storage_unavailable service={} topic={} partition={} offset={} attempt={} retry_in_ms={} "
                + "error={} cause={}", name, raw.topic(), raw.partition(), raw.offset(), storageWaits, pauseMs,
                e.getClass().getSimpleName(), StorageUnavailableException.rootCause(e).getClass().getSimpleName());
        pauseThenReread(raw, tp, pauseMs);
    }

    /** The pause before the {@code waits}-th consecutive retry: {@code first}, doubled each time, at most {@code max}. */
    static long doublingPauseMs(int waits, Duration first, Duration max) {
        return Math.min(max.toMillis(), first.toMillis() << Math.min(waits - 1, 10));
    }

    /** Rewinds to {@code raw} and, paused, keeps polling (so the group keeps this member) for {@code pauseMs}. */
    private void pauseThenReread(ConsumerRecord<byte[], byte[]> raw, TopicPartition tp, long pauseMs) {
        consumer.seek(tp, raw.offset());
        consumer.pause(consumer.assignment());
        try {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pauseMs);
            while (running && System.nanoTime() < until) {
                poll();
            }
        } finally {
            if (running) {
                consumer.resume(consumer.assignment());
            }
        }
    }

    private List<TopicRecord<?, ?>> failureOutputs(ConsumerRecord<K, V> input, ConsumerRecord<byte[], byte[]> raw,
                                                   Exception cause) {
        try {
            return onFailure.onFailure(input, raw, cause);
        } catch (RuntimeException e) {
            LOG.error("event=failure_handler_failed service={} error={}", name, e.getClass().getSimpleName());
            return List.of(deadLetters.failed(raw, cause));
        }
    }

    /**
     * Publishes {@code outputs} and the offset after {@code raw} in one transaction, retrying a failed commit of the
     * same outputs a few times (the job is not re-run for a registry or broker hiccup). If it still fails, the
     * consumer is rewound to {@code raw} so the input is processed again.
     */
    private void commit(List<TopicRecord<?, ?>> outputs, ConsumerRecord<byte[], byte[]> raw, TopicPartition tp) {
        for (int attempt = 1; attempt <= COMMIT_ATTEMPTS && running; attempt++) {
            boolean open = false;
            boolean committed = false;
            try {
                List<TopicRecord<?, ?>> stamped = stamp.stamp(outputs);
                List<ProducerRecord<byte[], byte[]>> serialized = new ArrayList<>(stamped.size());
                for (TopicRecord<?, ?> r : stamped) {
                    serialized.add(serialize(r));
                }
                producer.beginTransaction();
                open = true;
                for (ProducerRecord<byte[], byte[]> r : serialized) {
                    producer.send(r);
                }
                producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(raw.offset() + 1)),
                        consumer.groupMetadata());
                producer.commitTransaction();
                committed = true;
                stamp.committed();
                committedJobs.incrementAndGet();
                LOG.info("event=job_committed service={} topic={} partition={} offset={} outputs={}", name, raw.topic(),
                        raw.partition(), raw.offset(), outputs.size());
                return;
            } catch (ProducerFencedException | FencedInstanceIdException | OutOfOrderSequenceException
                     | InvalidProducerEpochException | UnsupportedVersionException | AuthorizationException e) {
                // The producer cannot continue; the loop fails and the process should be restarted.
                throw e;
            } catch (KafkaException | IllegalStateException e) {
                RuntimeException fatal = fatalCause(e);
                if (fatal != null) {
                    // The producer wraps what put it in its error state (a topic it may not write, say); retrying
                    // the same outputs would fail the same way for ever, with the input's set never ending.
                    throw fatal;
                }
                if (open) {
                    abortQuietly();
                }
                LOG.warn("event=commit_failed service={} topic={} partition={} offset={} attempt={} error={}", name,
                        raw.topic(), raw.partition(), raw.offset(), attempt, e.getClass().getSimpleName());
                if (!assigned.contains(tp)) {
                    return; // the partition moved: its new owner processes the record
                }
                pauseFor(Duration.ofMillis(500L << (attempt - 1)));
            } finally {
                if (!committed) {
                    stamp.aborted();
                }
            }
        }
        if (running && assigned.contains(tp)) {
            consumer.seek(tp, raw.offset());
        }
    }

    /**
     * The error, or the first of its causes, after which this producer cannot go on: fenced by another instance, or
     * refused by the broker's authorizer (a missing ACL does not heal by retrying). Null for anything else. A failed
     * commit usually arrives as a plain {@link KafkaException} whose cause says why, so the causes are looked at too.
     */
    static RuntimeException fatalCause(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof FencedInstanceIdException
                    || t instanceof OutOfOrderSequenceException || t instanceof InvalidProducerEpochException
                    || t instanceof UnsupportedVersionException || t instanceof AuthorizationException) {
                return (RuntimeException) t;
            }
        }
        return null;
    }

    /** Waits while polling (partitions paused), so the group membership survives the wait. */
    private void pauseFor(Duration d) {
        Set<TopicPartition> paused = consumer.assignment();
        consumer.pause(paused);
        long end = System.nanoTime() + d.toNanos();
        while (running && System.nanoTime() < end) {
            poll();
        }
    }

    @SuppressWarnings("unchecked")
    private ProducerRecord<byte[], byte[]> serialize(TopicRecord<?, ?> r) {
        Topic<Object, SpecificRecord> topic = (Topic<Object, SpecificRecord>) r.topic();
        byte[] key = r.key() == null ? null : topic.keySerde().serializer().serialize(r.topicName(), r.key());
        Serializer<Object> values = valueSerializers.computeIfAbsent(r.topic().name(),
                n -> (Serializer<Object>) (Serializer<?>) serdes.valueSerde(topic).serializer());
        return new ProducerRecord<>(r.topicName(), key, values.serialize(r.topicName(), r.value()));
    }

    private void abortQuietly() {
        try {
            producer.abortTransaction();
        } catch (KafkaException e) {
            LOG.warn("event=abort_failed service={} error={}", name, e.getClass().getSimpleName());
        }
    }

    private void fail(String reason) {
        failure = reason;
        terminal = Health.Status.FAILED;
        LOG.error("event=runner_failed service={} reason=\"{}\"", name, reason);
    }

    private void closeClients() {
        InFlight job = inFlight;
        if (job != null) {
            job.revoked = true;
        }
        jobThread.shutdownNow();
        for (AutoCloseable m : clientMetrics) {
            try {
                m.close();
            } catch (Exception e) {
                LOG.warn("event=client_metrics_close_failed service={} error={}", name, e.getClass().getSimpleName());
            }
        }
        clientMetrics.clear();
        if (consumer != null) {
            try {
                consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
                LOG.warn("event=consumer_close_failed service={} error={}", name, e.getClass().getSimpleName());
            }
        }
        if (producer != null) {
            try {
                producer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.warn("event=producer_close_failed service={} error={}", name, e.getClass().getSimpleName());
            }
        }
        decoder.close();
        valueSerializers.values().forEach(Serializer::close);
        assigned.clear();
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Keeps the assignment and pauses partitions that arrive while a job runs. */
    private final class Listener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            lose(partitions, "revoked");
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            lose(partitions, "lost");
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assigned.addAll(partitions);
            if (inFlight != null && !partitions.isEmpty()) {
                consumer.pause(partitions);
            }
            if (!partitions.isEmpty()) {
                LOG.info("event=partitions_assigned service={} partitions={}", name, partitions);
            }
        }

        private void lose(Collection<TopicPartition> partitions, String how) {
            if (partitions.isEmpty()) {
                return;
            }
            assigned.removeAll(partitions);
            revocations.addAndGet(partitions.size());
            InFlight job = inFlight;
            if (job != null && partitions.contains(job.partition)) {
                job.revoked = true;
            }
            LOG.info("event=partitions_{} service={} partitions={}", how, name, partitions);
        }
    }

    /** Declares a runner. */
    public static final class Builder<K, V extends SpecificRecord> {
        private final String name;
        private final Topic<K, V> inputTopic;
        private final ValueSerdeFactory serdes;
        private String inputTopicName;
        private Map<String, Object> kafka = Map.of();
        private String groupId;
        private String instanceId = "0";
        private Job<K, V> job;
        private FailureHandler<K, V> onFailure;
        private UndecodableHandler onUndecodable;
        private DeadLetters deadLetters;
        private OutputStamp stamp = OutputStamp.NONE;
        private ServiceMetrics metrics;
        private Duration pollInterval = Duration.ofMillis(200);
        private Duration stopTimeout = Duration.ofSeconds(15);
        private final Map<String, Object> consumerOverrides = new HashMap<>();
        private final Map<String, Object> producerOverrides = new HashMap<>();

        private Builder(String name, Topic<K, V> inputTopic, ValueSerdeFactory serdes) {
            this.name = Objects.requireNonNull(name, "name");
            this.inputTopic = Objects.requireNonNull(inputTopic, "inputTopic");
            this.inputTopicName = inputTopic.name();
            this.serdes = Objects.requireNonNull(serdes, "serdes");
        }

        /** Base client settings: {@code bootstrap.servers} and any security settings ({@code CommonConfig.kafkaClientBase()}). */
        public Builder<K, V> kafka(Map<String, Object> base) {
            this.kafka = Map.copyOf(base);
            return this;
        }

        /** The consumer group; instances of one service share it. */
        public Builder<K, V> groupId(String groupId) {
            this.groupId = groupId;
            return this;
        }

        /** This instance's stable id (part of the transactional id). */
        public Builder<K, V> instanceId(String instanceId) {
            this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
            return this;
        }

        public Builder<K, V> job(Job<K, V> job) {
            this.job = job;
            return this;
        }

        /** Default: dead-letter the input ({@link DeadLetters#failed}, the exception's class name as reason). */
        public Builder<K, V> onFailure(FailureHandler<K, V> onFailure) {
            this.onFailure = onFailure;
            return this;
        }

        /** Default: dead-letter the input ({@link DeadLetters#undecodable}). */
        public Builder<K, V> onUndecodable(UndecodableHandler onUndecodable) {
            this.onUndecodable = onUndecodable;
            return this;
        }

        /**
         * Required: the dead letters of the defaults above, and of a failed job whose failure handler threw in turn.
         */
        public Builder<K, V> deadLetters(DeadLetters deadLetters) {
            this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
            return this;
        }

        /**
         * Rewrites the outputs of every commit attempt and hears whether it committed (the stage's audit chain,
         * {@code AuditChainStamp}). Default: the outputs as the job returned them.
         */
        public Builder<K, V> stamp(OutputStamp stamp) {
            this.stamp = Objects.requireNonNull(stamp, "stamp");
            return this;
        }

        public Builder<K, V> metrics(ServiceMetrics metrics) {
            this.metrics = metrics;
            return this;
        }

        /** How long each poll waits; also how often a running job is checked for stop and revocation. */
        public Builder<K, V> pollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
            return this;
        }

        /** How long {@link #stop()} waits for the loop to finish. */
        public Builder<K, V> stopTimeout(Duration stopTimeout) {
            this.stopTimeout = stopTimeout;
            return this;
        }

        /** Reads another topic of the input's types (tests). */
        public Builder<K, V> inputTopicName(String topicName) {
            this.inputTopicName = Objects.requireNonNull(topicName, "topicName");
            return this;
        }

        /** Extra consumer settings, applied last. */
        public Builder<K, V> consumerConfig(Map<String, ?> overrides) {
            consumerOverrides.putAll(overrides);
            return this;
        }

        /** Extra producer settings, applied last. */
        public Builder<K, V> producerConfig(Map<String, ?> overrides) {
            producerOverrides.putAll(overrides);
            return this;
        }

        public TransactionalJobRunner<K, V> build() {
            if (groupId == null || groupId.isBlank()) {
                throw new IllegalStateException("a TransactionalJobRunner needs a groupId");
            }
            if (!kafka.containsKey(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
                throw new IllegalStateException("a TransactionalJobRunner needs bootstrap.servers in kafka(...)");
            }
            return new TransactionalJobRunner<>(this);
        }
    }
}
