package dev.loku.ingest;

import dev.loku.events.ErasureRequest;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.QaPair;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.artifact.DirectoryArtifactStore;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.crypto.DataKeyStores;
import dev.loku.runtime.embedded.EmbeddedStack;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.testing.PlainAvroSerdes;
import dev.loku.runtime.testing.SampleEvents;
import dev.loku.runtime.testing.TestCatalogues;
import dev.loku.runtime.testing.TestClients;
import dev.loku.schemas.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Ingest throughput, printed and never asserted (a benchmark, not a unit test): how many erasure requests per second
 * the real {@link IngestTopology} validates and batches, with a real RocksDB state and a real artifact store.
 * <pre>
 *   IngestBench [SCENARIO...]      (default: models queue broker; queue:N for one depth)
 * </pre>
 * <ul>
 *   <li>{@code models}: 20,000 requests over 500 models in TopologyTestDriver; every forget set that comes out gets
 *       a PASS verdict at once, so gates open and sets keep being cut.</li>
 *   <li>{@code queue}: one model whose gate is closed (its first set never gets a verdict), with 1,000, 10,000 and
 *       100,000 requests already waiting: the rate of 5,000 more requests at each depth. A depth that takes longer
 *       than {@link #GIVE_UP} to fill is abandoned and reported.</li>
 *   <li>{@code broker}: the {@link IngestService} on the in-process broker and registry (exactly-once), requests
 *       produced beforehand: 20,000 over 500 models, then (on a fresh broker) 20,000 for one model with a closed
 *       gate; the time from start to the last request waiting in the batch store, and the steady rate from the
 *       moment a fifth of them is held to the last.</li>
 *   <li>{@code broker-long}: the same with {@code -Dbench.requests} requests in each part (default 100,000;
 *       {@code -Dbench.queued} for the closed-gate part, 0 to skip it), so that the JIT's warm-up is a smaller share.
 *       {@code -Dbench.set.<key>=<value>} passes a setting to the service in both broker scenarios.</li>
 * </ul>
 * Run it from the project root (the broker scenario needs the registry the build unpacks):
 * <pre>
 *   mvn -B -ntp -o -q -pl ingest-service -am test-compile
 *   mvn -B -ntp -o -q -pl ingest-service exec:java -Dexec.classpathScope=test \
 *       -Dexec.mainClass=dev.loku.ingest.IngestBench -Dexec.args="models queue broker"
 * </pre>
 */
public final class IngestBench {

    /** A queue depth whose filling takes longer than this is given up (the old per-request cost grew with it). */
    static final Duration GIVE_UP = Duration.ofSeconds(180);

    private static final PlainAvroSerdes SERDES = new PlainAvroSerdes();
    private static final String APP = "ingest-bench";

    private IngestBench() {
    }

    public static void main(String[] args) throws Exception {
        List<String> scenarios = args.length == 0 ? List.of("models", "queue", "broker") : List.of(args);
        System.out.printf(Locale.ROOT, "ingest-bench java=%s cores=%d max_heap_mb=%d date=%s%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20, Instant.now());
        for (String s : scenarios) {
            if (s.startsWith("queue:")) {
                closedGate(List.of(Integer.parseInt(s.substring(6))), 5_000);
                continue;
            }
            switch (s) {
                case "models" -> manyModels(500, 20_000);
                case "queue" -> closedGate(List.of(1_000, 10_000, 100_000), 5_000);
                case "broker" -> broker(500, 20_000, 20_000);
                case "broker-small" -> broker(500, 20_000, 5_000);
                case "broker-long" -> broker(500, Integer.getInteger("bench.requests", 100_000),
                        Integer.getInteger("bench.queued", Integer.getInteger("bench.requests", 100_000)));
                default -> throw new IllegalArgumentException("unknown scenario " + s + " (models, queue, broker)");
            }
        }
    }

    // ---------------------------------------------------------------- TopologyTestDriver

    /** The topology in TopologyTestDriver with every output drained as it comes (the driver keeps them otherwise). */
    static final class Driven implements AutoCloseable {
        final Path dir;
        final TopologyTestDriver driver;
        final TestInputTopic<byte[], byte[]> requests;
        final TestInputTopic<String, VerificationResult> verifications;
        final TestOutputTopic<String, ForgetSetReady> forgetSets;
        final List<TestOutputTopic<byte[], byte[]>> drained = new ArrayList<>();
        final Serializer<ErasureRequest> requestSerializer = Topics.ERASURE_REQUESTS.valueSerde(SERDES).serializer();

        Driven(Map<String, List<String>> catalogueModels, int batchMaxRequests) throws IOException {
            dir = Files.createTempDirectory("ingest-bench");
            Path catalogue = TestCatalogues.write(dir.resolve("conf"), catalogueModels);
            IngestConfig config = IngestConfig.of(Map.of(
                    "artifacts.root", dir.resolve("artifacts").toString(),
                    "keys.root", KEYS.toString(),
                    "models.catalogue", catalogue.toString(),
                    "service.instance.id", "bench",
                    "ingest.batch.max.requests", Integer.toString(batchMaxRequests),
                    "ingest.batch.max.wait", "1h"));
            StreamsBuilder builder = new StreamsBuilder();
            DirectoryArtifactStore artifacts = new DirectoryArtifactStore(config.common().artifactsRoot());
            IngestTopology.buildTopology(builder, config, SERDES, ModelCatalogue.load(catalogue), artifacts,
                    ForgetSetLedger.inDirectory(artifacts), DataKeyStores.open(config.common().keyStore()), new ServiceMetrics("ingest"));
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, APP);
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
            driver = new TopologyTestDriver(builder.build(), props, Instant.parse("2026-11-23T10:00:00Z"));
            requests = driver.createInputTopic(Topics.ERASURE_REQUESTS.name(), new ByteArraySerializer(),
                    new ByteArraySerializer());
            verifications = driver.createInputTopic(Topics.VERIFICATIONS.name(), Serdes.String().serializer(),
                    Topics.VERIFICATIONS.valueSerde(SERDES).serializer());
            forgetSets = driver.createOutputTopic(Topics.FORGET_SETS.name(), Serdes.String().deserializer(),
                    Topics.FORGET_SETS.valueSerde(SERDES).deserializer());
            for (String topic : driver.producedTopicNames()) {
                if (!topic.equals(Topics.FORGET_SETS.name())) {
                    drained.add(driver.createOutputTopic(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer()));
                }
            }
        }

        void send(ErasureRequest r) {
            send(encode(r));
        }

        /** The request as a producer puts it on the topic (key, value): made before the clock runs. */
        KeyValue<byte[], byte[]> encode(ErasureRequest r) {
            return KeyValue.pair(r.getRequestId().toString().getBytes(StandardCharsets.UTF_8),
                    requestSerializer.serialize(Topics.ERASURE_REQUESTS.name(), r));
        }

        List<KeyValue<byte[], byte[]>> encode(String model, int from, int count) {
            List<KeyValue<byte[], byte[]>> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                out.add(encode(request(model, from + i)));
            }
            return out;
        }

        void send(KeyValue<byte[], byte[]> kv) {
            requests.pipeInput(kv.key, kv.value);
        }

        /** Empties every output but the forget sets (audit, changelogs), which the driver would keep in memory. */
        void drain() {
            for (TestOutputTopic<byte[], byte[]> t : drained) {
                while (!t.isEmpty()) {
                    t.readRecordsToList();
                }
            }
        }

        /** Requests waiting for {@code model}. */
        long waiting(String model) {
            KeyValueStore<String, ModelBatchState> store = driver.getKeyValueStore(IngestTopology.BATCHES_STORE);
            ModelBatchState s = store.get(model);
            return s == null ? 0 : IngestBench.waiting(s);
        }

        @Override
        public void close() throws IOException {
            driver.close();
            deleteRecursively(dir);
        }
    }

    static void manyModels(int models, int total) throws IOException {
        Map<String, List<String>> catalogue = new LinkedHashMap<>();
        for (int i = 0; i < models; i++) {
            catalogue.put(model(i), List.of("acme"));
        }
        try (Driven d = new Driven(catalogue, 8)) {
            List<KeyValue<byte[], byte[]>> rs = new ArrayList<>(total);
            for (int i = 0; i < total; i++) {
                rs.add(d.encode(request(model(i % models), i)));
            }
            warmUp(d, rs.subList(0, 2_000));
            int sets = 0;
            long t0 = startClock();
            for (int i = 2_000; i < total; i++) {
                d.send(rs.get(i));
                if (i % 100 == 99) {
                    sets += verifyAll(d);
                    d.drain();
                }
            }
            sets += verifyAll(d);
            double seconds = (System.nanoTime() - t0) / 1e9;
            print("driver-many-models", "models=" + models, total - 2_000, seconds, "forget_sets=" + sets);
        }
    }

    static void closedGate(List<Integer> depths, int timed) throws IOException {
        String model = "bench-model";
        long[] progress = new long[2]; // requests sent, waiting at the last drain: reported if the run dies
        long start = System.nanoTime();
        try (Driven d = new Driven(Map.of(model, List.of("acme")), 8)) {
            int sent = 0;
            for (; sent < 8; sent++) {
                d.send(request(model, sent)); // cut at once: the gate is closed from here on
            }
            d.forgetSets.readRecordsToList();
            for (int depth : depths) {
                long fill0 = System.nanoTime();
                int filled = 0;
                long window0 = fill0;
                List<KeyValue<byte[], byte[]>> chunk = List.of();
                int next = 0;
                while (d.waiting(model) < depth) {
                    if (next == chunk.size()) {
                        long prep = System.nanoTime();
                        chunk = d.encode(model, sent, 10_000);
                        next = 0;
                        long spent = System.nanoTime() - prep; // preparing is the producers' work: not counted
                        fill0 += spent;
                        window0 += spent;
                    }
                    d.send(chunk.get(next++));
                    sent++;
                    progress[0] = sent;
                    if (++filled % 50 == 0) {
                        d.drain();
                    }
                    if (filled % 10_000 == 0) {
                        long t = System.nanoTime();
                        progress[1] = d.waiting(model);
                        System.out.printf(Locale.ROOT, "ingest-bench scenario=driver-closed-gate filling waiting=%d "
                                + "last_10000_requests_per_s=%.0f%n", progress[1], 10_000 / ((t - window0) / 1e9));
                        window0 = t;
                        if (t - fill0 > GIVE_UP.toNanos()) {
                            System.out.printf(Locale.ROOT, "ingest-bench scenario=driver-closed-gate queue=%d gave_up "
                                    + "after %.0f s%n", depth, (t - fill0) / 1e9);
                            return;
                        }
                    }
                }
                double fillSeconds = (System.nanoTime() - fill0) / 1e9;
                List<KeyValue<byte[], byte[]>> batch = d.encode(model, sent, timed);
                sent += timed;
                long t0 = startClock();
                for (int i = 0; i < timed; i++) {
                    d.send(batch.get(i));
                    if (i % 50 == 49) {
                        d.drain();
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                print("driver-closed-gate", "queue=" + depth, timed, seconds, "waiting_after=" + d.waiting(model)
                        + String.format(Locale.ROOT, " fill_requests_per_s=%.0f", filled / fillSeconds));
                d.drain();
            }
        } catch (OutOfMemoryError e) {
            System.out.printf(Locale.ROOT, "ingest-bench scenario=driver-closed-gate out_of_memory after %d requests "
                    + "(%d waiting at the last count) and %.0f s%n", progress[0], progress[1],
                    (System.nanoTime() - start) / 1e9);
        }
    }

    private static void warmUp(Driven d, List<KeyValue<byte[], byte[]>> rs) {
        for (KeyValue<byte[], byte[]> r : rs) {
            d.send(r);
        }
        verifyAll(d);
        d.drain();
    }

    /** A PASS verdict for every forget set that came out: the gate of each opens at once. */
    private static int verifyAll(Driven d) {
        int n = 0;
        while (!d.forgetSets.isEmpty()) {
            for (KeyValue<String, ForgetSetReady> kv : d.forgetSets.readKeyValuesToList()) {
                d.verifications.pipeInput(kv.key, verdict(kv.value));
                n++;
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- the real broker

    /** {@code manyTotal} requests over {@code models} models, then {@code queued} for one model (0: that part is skipped). */
    static void broker(int models, int manyTotal, int queued) throws Exception {
        Path dir = Files.createTempDirectory("ingest-bench-broker");
        Map<String, List<String>> catalogue = new LinkedHashMap<>();
        for (int i = 0; i < models; i++) {
            catalogue.put(model(i), List.of("acme"));
        }
        catalogue.put("bench-queue", List.of("acme"));
        Path catalogueFile = TestCatalogues.write(dir.resolve("conf"), catalogue);
        // A stack per scenario: the service reads its request topic from the start, so a second scenario on the
        // same broker would also process (and not count) the first one's requests.
        try {
            List<ErasureRequest> many = new ArrayList<>(manyTotal);
            for (int i = 0; i < manyTotal; i++) {
                many.add(request(model(i % models), i));
            }
            try (EmbeddedStack stack = EmbeddedStack.start()) {
                runService(stack, dir, catalogueFile, "broker-many-models", "models=" + models, many);
            }
            if (queued == 0) {
                return;
            }
            List<ErasureRequest> one = new ArrayList<>(queued);
            for (int i = 0; i < queued; i++) {
                one.add(request("bench-queue", i));
            }
            try (EmbeddedStack stack = EmbeddedStack.start()) {
                runService(stack, dir, catalogueFile, "broker-closed-gate", "queue=0.." + queued, one);
            }
        } finally {
            deleteRecursively(dir);
        }
    }

    /**
     * Produces {@code rs} first, then starts a fresh ingest app (its own application id) and times it from start to
     * the moment the batch store holds every request (waiting or cut).
     */
    private static void runService(EmbeddedStack stack, Path dir, Path catalogue, String scenario, String detail,
                                   List<ErasureRequest> rs) throws Exception {
        String app = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> settings = new HashMap<>();
        settings.put("bootstrap.servers", stack.endpoints().bootstrapServers());
        settings.put("registry.url", stack.endpoints().ccompatUrl());
        settings.put("artifacts.root", dir.resolve("artifacts").toString());
        settings.put("keys.root", KEYS.toString());
        settings.put("models.catalogue", catalogue.toString());
        settings.put("http.port", "0");
        settings.put("service.instance.id", app);
        settings.put("ingest.application.id", app);
        settings.put("ingest.state.dir", dir.resolve("state-" + app).toString());
        settings.put("ingest.batch.max.requests", "8");
        settings.put("ingest.batch.max.wait", "1h");
        settings.putAll(overrides());
        IngestService service = new IngestService(IngestConfig.of(settings));
        // Count only this run's models.
        java.util.Set<String> ours = new java.util.HashSet<>();
        rs.forEach(r -> ours.add(r.getModelId()));
        long p0 = System.nanoTime();
        try (KafkaProducer<String, ErasureRequest> producer = new KafkaProducer<>(Map.of(
                "bootstrap.servers", stack.endpoints().bootstrapServers(), "linger.ms", 20, "batch.size", 262_144,
                "acks", "all"), Serdes.String().serializer(), stack.serdes().valueSerializer(Topics.ERASURE_REQUESTS))) {
            for (ErasureRequest r : rs) {
                producer.send(new ProducerRecord<>(Topics.ERASURE_REQUESTS.name(), r.getRequestId().toString(), r));
            }
            producer.flush();
        }
        double produceSeconds = (System.nanoTime() - p0) / 1e9;
        long t0 = startClock();
        service.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            long held = 0;
            // The steady rate, from the service's own ACCEPTED counter (live, where the batch store's queries lag):
            // from a fifth of the requests accepted to the last, so neither start-up (joining the group, restoring
            // stores) nor the JIT's warm-up counts in it.
            long fifthAt = 0;
            long allAt = 0;
            long fifth = rs.size() / 5;
            String outcome = "timed_out_after_10_min";
            while (System.nanoTime() < deadline) {
                double accepted = service.metrics().requests("ACCEPTED");
                if (fifthAt == 0 && accepted >= fifth) {
                    fifthAt = System.nanoTime();
                }
                if (allAt == 0 && accepted >= rs.size()) {
                    allAt = System.nanoTime();
                }
                // The store is only queried once every request is accepted: iterating it meanwhile would take CPU
                // from the service on a 2-core machine.
                long now = allAt == 0 ? 0 : heldRequests(service, ours);
                held = Math.max(held, now);
                if (held >= rs.size()) {
                    outcome = "complete";
                    break;
                }
                if (service.health().status() == dev.loku.runtime.service.Health.Status.FAILED) {
                    outcome = "stream_failed(" + service.health().reason() + ")";
                    break;
                }
                Thread.sleep(20);
            }
            long end = System.nanoTime();
            double seconds = (end - t0) / 1e9;
            String steady = fifthAt == 0 || allAt <= fifthAt ? "steady=none"
                    : String.format(Locale.ROOT, "first_fifth_seconds=%.1f steady_requests=%d steady_requests_per_s=%.0f",
                            (fifthAt - t0) / 1e9, rs.size() - fifth, (rs.size() - fifth) / ((allAt - fifthAt) / 1e9));
            print(scenario, detail + String.format(Locale.ROOT, " produce_seconds=%.1f", produceSeconds),
                    (int) held, seconds, steady + " " + outcome);
            System.out.println("ingest-bench scenario=" + scenario + " " + logOffsetsPerRequest(stack, rs.size()));
        } finally {
            service.stop();
        }
    }

    /** Service settings given as {@code -Dbench.set.<key>=<value>} (say, {@code ingest.commit.interval}), printed. */
    static Map<String, String> overrides() {
        Map<String, String> out = new java.util.TreeMap<>();
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("bench.set."))
                .forEach(k -> out.put(k.substring("bench.set.".length()), System.getProperty(k)));
        if (!out.isEmpty()) {
            System.out.println("ingest-bench settings=" + out);
        }
        return out;
    }

    /**
     * What the run wrote to the broker, per request: the end offsets of every topic but the request topic (the
     * bench's own input), grouped as the service's outputs, its repartition topics and its store changelogs. Offsets
     * count transaction markers too (one per partition a transaction wrote), so they are an upper bound on records.
     */
    private static String logOffsetsPerRequest(EmbeddedStack stack, int requests) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.endpoints().bootstrapServers()))) {
            Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
            for (TopicDescription t : admin.describeTopics(admin.listTopics().names().get()).allTopicNames().get()
                    .values()) {
                if (t.name().equals(Topics.ERASURE_REQUESTS.name())) {
                    continue;
                }
                t.partitions().forEach(p -> ends.put(new TopicPartition(t.name(), p.partition()), OffsetSpec.latest()));
            }
            Map<String, Long> byKind = new java.util.TreeMap<>();
            admin.listOffsets(ends).all().get().forEach((tp, info) -> {
                String kind = tp.topic().endsWith("-changelog") ? "changelog"
                        : tp.topic().endsWith("-repartition") ? "repartition"
                        : tp.topic().replace("loku.", "");
                byKind.merge(kind, info.offset(), Long::sum);
            });
            long total = byKind.values().stream().mapToLong(Long::longValue).sum();
            StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "log_offsets_per_request=%.2f",
                    total / (double) requests));
            byKind.forEach((kind, n) -> out.append(String.format(Locale.ROOT, " %s=%.2f", kind, n / (double) requests)));
            return out.toString();
        }
    }

    /** Requests of {@code models} the batch store holds, waiting or in a set in flight (0 while not queryable). */
    private static long heldRequests(IngestService service, java.util.Set<String> models) {
        KafkaStreams s = service.streams();
        if (s == null || s.state() != KafkaStreams.State.RUNNING) {
            return 0;
        }
        try {
            ReadOnlyKeyValueStore<String, ModelBatchState> store = s.store(StoreQueryParameters.fromNameAndType(
                    IngestTopology.BATCHES_STORE, QueryableStoreTypes.keyValueStore()));
            long n = 0;
            try (KeyValueIterator<String, ModelBatchState> all = store.all()) {
                while (all.hasNext()) {
                    KeyValue<String, ModelBatchState> kv = all.next();
                    if (models.contains(kv.key)) {
                        n += waiting(kv.value) + cut(kv.value);
                    }
                }
            }
            return n;
        } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
            return 0;
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Requests waiting in a model's state. */
    static long waiting(ModelBatchState s) {
        return s.waiting();
    }

    /** Requests cut into sets so far (only the one in flight is in the state; the bench never releases the gate). */
    static long cut(ModelBatchState s) {
        return s.gate() == null ? 0 : s.gate().requests();
    }

    private static String model(int i) {
        return String.format(Locale.ROOT, "bench-model-%03d", i);
    }

    /** The data keys of every request the bench makes: producers seal, and ingest opens with the same store. */
    private static final Path KEYS;
    private static final dev.loku.runtime.crypto.ContentSeal SEAL;

    static {
        try {
            KEYS = Files.createTempDirectory("ingest-bench-keys");
            SEAL = new dev.loku.runtime.crypto.ContentSeal(new ProducerKeys(
                    new dev.loku.runtime.crypto.DirectoryDataKeyStore(KEYS)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The producers' side of the key store: the same files {@link dev.loku.runtime.crypto.DirectoryDataKeyStore}
     * reads ({@code <root>/<requestId>.key}, 32 raw bytes), written without its per-key fsync. Sealing is the
     * submitter's work, not ingest's, and one fsync per request made preparing 100,000 requests take longer than
     * ingesting them; ingest opens the keys through the real directory store.
     */
    static final class ProducerKeys implements dev.loku.runtime.crypto.DataKeyStore {
        private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
        private final dev.loku.runtime.crypto.DirectoryDataKeyStore store;

        ProducerKeys(dev.loku.runtime.crypto.DirectoryDataKeyStore store) {
            this.store = store;
        }

        @Override
        public javax.crypto.SecretKey createIfAbsent(UUID requestId) throws IOException {
            byte[] key = new byte[32];
            RANDOM.nextBytes(key);
            try {
                Files.write(store.root().resolve(requestId + ".key"), key, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // made before: that key is the request's
            }
            return store.find(requestId).orElseThrow();
        }

        @Override
        public java.util.Optional<javax.crypto.SecretKey> find(UUID requestId) throws IOException {
            return store.find(requestId);
        }

        @Override
        public boolean destroy(UUID requestId) throws IOException {
            return store.destroy(requestId);
        }
    }

    private static ErasureRequest request(String model, int n) {
        ErasureRequest plain = ErasureRequest.newBuilder(SampleEvents.erasureRequest(model)).setTenantId("acme")
                .setTexts(List.of("Person " + n + " of the benchmark lives at " + n + " Bench Street."))
                .setQaPairs(List.of(new QaPair("Where does person " + n + " live?", "At " + n + " Bench Street.")))
                .build();
        try {
            return dev.loku.runtime.crypto.SealedRequests.sealed(SEAL, plain);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static VerificationResult verdict(ForgetSetReady set) {
        return IngestTopologyTest.verdict(set, set.getForgetSetId(), Verdict.PASS, false,
                "v1-" + set.getForgetSetId().toString().substring(0, 8));
    }

    /**
     * One result line. CPU seconds are the whole process's over the same interval (every thread: Streams, RocksDB,
     * GC), so requests per CPU-second stays comparable when other work shares the machine.
     */
    private static void print(String scenario, String detail, int requests, double seconds, String more) {
        double cpu = (cpuNanos() - cpuMark) / 1e9;
        System.out.printf(Locale.ROOT, "ingest-bench scenario=%s %s requests=%d seconds=%.2f requests_per_s=%.0f "
                        + "cpu_seconds=%.2f requests_per_cpu_s=%.0f %s%n",
                scenario, detail, requests, seconds, requests / seconds, cpu, requests / cpu, more);
    }

    private static long cpuMark;

    /** Starts the interval the next {@link #print} reports CPU time for. */
    private static long startClock() {
        cpuMark = cpuNanos();
        return System.nanoTime();
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
