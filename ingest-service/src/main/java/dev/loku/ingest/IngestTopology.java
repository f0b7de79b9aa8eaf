package dev.loku.ingest;

import dev.loku.events.AuditEvent;
import dev.loku.events.DeadLetter;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.artifact.ArtifactStore;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.crypto.DataKeyStore;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.serde.JsonSerde;
import dev.loku.schemas.Topics;
import dev.loku.schemas.ValueSerdeFactory;
import java.time.Clock;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The ingest service's topology (docs/pipeline.md, step 1), built in one method so that unit tests drive the very
 * same topology in TopologyTestDriver:
 * <pre>
 * loku.erasure-requests (raw bytes)
 *   -> request-intake [store ingest-request-ids]: decode | dedupe | validate | content artifact
 *        -> loku.dead-letters   (undecodable)
 *        -> loku.audit          (DEAD_LETTERED, RECEIVED, REJECTED, ACCEPTED)
 *        -> accepted, keyed by model id
 *             -> repartition "requests-by-model" (as many partitions as loku.verifications: co-partitioned)
 * loku.dead-letters (raw bytes)
 *   -> job-dead-letters: job records the next stage could not decode, keyed by model id
 *        -> repartition "job-dead-letters-by-model" (co-partitioned likewise)
 * loku.verifications (raw bytes: decoded by the batcher)
 * loku.model-versions -> global store ingest-promoted-versions (every instance holds all of it)
 *
 * merge of the three -> forget-set-batcher [stores ingest-batches, ingest-waiting, ingest-in-flight]
 *                         -> loku.forget-sets   (ForgetSetReady)
 *                         -> loku.audit         (BATCHED; FAILED and REJECTED for sets it cannot cut or finish)
 *                         -> loku.verifications (final FAIL of a set ingest closed itself)
 *                         -> loku.dead-letters  (undecodable verdicts)
 *
 * every audit branch -> audit-chain [store ingest-audit-chain-intake / -batcher]: links the event into its task's
 *                       integrity chain (AuditChainProcessor) -> loku.audit
 * </pre>
 */
public final class IngestTopology {

    /** Request ids already seen: the dedupe store (request id to first-seen wall-clock millis). */
    public static final String REQUEST_IDS_STORE = "ingest-request-ids";
    /** Per-model batch state: current version, how many wait, the gate (see {@link ModelBatchState}). */
    public static final String BATCHES_STORE = "ingest-batches";
    /** Waiting requests, one record each, keyed by model id and arrival sequence ({@link WaitingRequest}). */
    public static final String WAITING_STORE = "ingest-waiting";
    /** Members of each model's set in flight ({@link InFlightSet}). */
    public static final String IN_FLIGHT_STORE = "ingest-in-flight";
    /** Global store: the raw latest record of {@code loku.model-versions} per model. */
    public static final String PROMOTED_VERSIONS_STORE = "ingest-promoted-versions";
    /** The audit chain position of each task, per branch ({@code intake}, {@code batcher}): {@link AuditChainProcessor}. */
    public static final String AUDIT_CHAIN_STORE_PREFIX = "ingest-audit-chain-";
    /** Name of the internal repartition topic (prefixed by the application id, suffixed "-repartition"). */
    public static final String REQUESTS_BY_MODEL = "requests-by-model";
    /** Name of the internal repartition topic of job dead letters. */
    public static final String JOB_DEAD_LETTERS_BY_MODEL = "job-dead-letters-by-model";

    private IngestTopology() {
    }

    /**
     * Adds the ingest topology to {@code builder}.
     *
     * @param serdes    value serdes of the catalogue topics (registry-backed; plain Avro in unit tests)
     * @param catalogue which models and tenants are valid
     * @param artifacts where request contents and forget sets are written
     * @param ledger    the forget-set ledger (which sets are closed)
     * @param keys      the data key store: requests arrive sealed under their keys, content artifacts are sealed
     * @param metrics   the service's metrics (requests by status, duplicates, dead letters)
     */
    public static void buildTopology(StreamsBuilder builder, IngestConfig config, ValueSerdeFactory serdes,
                                     ModelCatalogue catalogue, ArtifactStore artifacts, ForgetSetLedger ledger,
                                     DataKeyStore keys, ServiceMetrics metrics) {
        String service = "ingest-service/" + config.common().instanceId();
        AuditEmitter audit = new AuditEmitter(service, Clock.systemUTC(), metrics);
        DeadLetterPublisher deadLetters = new DeadLetterPublisher(service, Clock.systemUTC(), metrics);
        RequestValidator validator = new RequestValidator(catalogue, config.maxContentBytes(),
                config.tenantHeader());

        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REQUEST_IDS_STORE),
                Serdes.String(), Serdes.Long()));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BATCHES_STORE),
                Serdes.String(), new JsonSerde<>(ModelBatchState.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(WAITING_STORE),
                Serdes.String(), new JsonSerde<>(WaitingRequest.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(IN_FLIGHT_STORE),
                Serdes.String(), new JsonSerde<>(InFlightSet.class)));
        for (String from : new String[] {"intake", "batcher"}) {
            builder.addStateStore(Stores.keyValueStoreBuilder(
                    Stores.persistentKeyValueStore(AUDIT_CHAIN_STORE_PREFIX + from), Serdes.String(), Serdes.String()));
        }
        builder.globalTable(Topics.MODEL_VERSIONS.name(), Consumed.with(Serdes.String(), Serdes.ByteArray())
                        .withName("model-versions"),
                Materialized.<String, byte[], KeyValueStore<Bytes, byte[]>>as(PROMOTED_VERSIONS_STORE)
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.ByteArray()));

        KStream<String, IngestOutput> intake = builder
                .stream(Topics.ERASURE_REQUESTS.name(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName("erasure-requests"))
                .process(() -> new RequestIntake(serdes, validator, artifacts, keys, ledger, audit, deadLetters, metrics,
                                config.dedupeRetention()),
                        Named.as("request-intake"), REQUEST_IDS_STORE);
        Map<String, KStream<String, IngestOutput>> routes = route(intake, "intake-");
        toAudit(routes.get("intake-audit"), serdes, "intake");
        toDeadLetters(routes.get("intake-dead-letters"), serdes, "intake");

        KStream<String, ForgetSetBatcher.Input> members = routes.get("intake-accepted")
                .mapValues(v -> ((IngestOutput.Accepted) v).member(), Named.as("accepted-members"))
                .repartition(Repartitioned.with(Serdes.String(), new JsonSerde<>(BatchMember.class))
                        .withName(REQUESTS_BY_MODEL)
                        .withNumberOfPartitions(Topics.VERIFICATIONS.partitions()))
                .mapValues(ForgetSetBatcher.Input::member, Named.as("member-input"));
        KStream<String, ForgetSetBatcher.Input> jobLetters = builder
                .stream(Topics.DEAD_LETTERS.name(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName("dead-letters"))
                .process(() -> new JobDeadLetterReader(serdes), Named.as("job-dead-letters"))
                .repartition(Repartitioned.with(Serdes.String(), new JsonSerde<>(JobDeadLetter.class))
                        .withName(JOB_DEAD_LETTERS_BY_MODEL)
                        .withNumberOfPartitions(Topics.VERIFICATIONS.partitions()))
                .mapValues(ForgetSetBatcher.Input::jobLetter, Named.as("job-letter-input"));
        KStream<String, ForgetSetBatcher.Input> verdicts = builder
                .stream(Topics.VERIFICATIONS.name(), Consumed.with(Serdes.String(), Serdes.ByteArray())
                        .withName("verifications"))
                .mapValues(ForgetSetBatcher.Input::verdict, Named.as("verdict-input"));

        KStream<String, IngestOutput> batched = members.merge(verdicts, Named.as("batcher-input"))
                .merge(jobLetters, Named.as("batcher-input-letters"))
                .process(() -> new ForgetSetBatcher(config, serdes, artifacts, ledger, keys, audit, deadLetters),
                        Named.as("forget-set-batcher"), BATCHES_STORE, WAITING_STORE, IN_FLIGHT_STORE);
        Map<String, KStream<String, IngestOutput>> out = route(batched, "batcher-");
        toAudit(out.get("batcher-audit"), serdes, "batcher");
        toDeadLetters(out.get("batcher-dead-letters"), serdes, "batcher");
        out.get("batcher-forget-sets")
                .mapValues(v -> ((IngestOutput.ForgetSet) v).event(), Named.as("forget-set-events"))
                .to(Topics.FORGET_SETS.name(), Produced.<String, ForgetSetReady>with(Serdes.String(),
                        Topics.FORGET_SETS.valueSerde(serdes)).withName("forget-sets-sink"));
        out.get("batcher-verdicts")
                .mapValues(v -> ((IngestOutput.Verdict) v).event(), Named.as("verdict-events"))
                .to(Topics.VERIFICATIONS.name(), Produced.<String, VerificationResult>with(Serdes.String(),
                        Topics.VERIFICATIONS.valueSerde(serdes)).withName("verdicts-sink"));
    }

    private static Map<String, KStream<String, IngestOutput>> route(KStream<String, IngestOutput> stream, String prefix) {
        return stream.split(Named.as(prefix))
                .branch((k, v) -> v instanceof IngestOutput.Audit, Branched.as("audit"))
                .branch((k, v) -> v instanceof IngestOutput.DeadLettered, Branched.as("dead-letters"))
                .branch((k, v) -> v instanceof IngestOutput.ForgetSet, Branched.as("forget-sets"))
                .branch((k, v) -> v instanceof IngestOutput.Verdict, Branched.as("verdicts"))
                .defaultBranch(Branched.as("accepted"));
    }

    private static void toAudit(KStream<String, IngestOutput> stream, ValueSerdeFactory serdes, String from) {
        String chainStore = AUDIT_CHAIN_STORE_PREFIX + from;
        stream.mapValues(v -> ((IngestOutput.Audit) v).event(), Named.as(from + "-audit-events"))
                .process(() -> new AuditChainProcessor(chainStore, from), Named.as(from + "-audit-chain"), chainStore)
                .to(Topics.AUDIT.name(), Produced.<String, AuditEvent>with(Serdes.String(), Topics.AUDIT.valueSerde(serdes))
                        .withName(from + "-audit-sink"));
    }

    private static void toDeadLetters(KStream<String, IngestOutput> stream, ValueSerdeFactory serdes, String from) {
        stream.map((k, v) -> KeyValue.pair(((IngestOutput.DeadLettered) v).key(), ((IngestOutput.DeadLettered) v).letter()),
                        Named.as(from + "-dead-letter-records"))
                .to(Topics.DEAD_LETTERS.name(), Produced.<byte[], DeadLetter>with(Serdes.ByteArray(),
                        Topics.DEAD_LETTERS.valueSerde(serdes)).withName(from + "-dead-letters-sink"));
    }
}
