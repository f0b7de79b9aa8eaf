package dev.loku.ingest;

import dev.loku.events.AuditEvent;
import dev.loku.events.DeadLetter;
import dev.loku.events.ForgetSetReady;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.artifact.ArtifactStore;
import dev.loku.runtime.audit.AuditEmitter;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.serde.JsonSerde;
import dev.loku.schemas.Topics;
import dev.loku.schemas.ValueSerdeFactory;
import java.time.Clock;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
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
 *             -> merge with loku.verifications
 *             -> forget-set-batcher [store ingest-batches]
 *                  -> loku.forget-sets (ForgetSetReady)
 *                  -> loku.audit       (BATCHED)
 * </pre>
 * Undecodable verification records are dead-lettered by the app's
 * {@link dev.loku.runtime.kafka.DeadLetterDeserializationHandler} (see {@link IngestService}).
 */
public final class IngestTopology {

    /** Request ids already seen: the dedupe store (request id to first-seen wall-clock millis). */
    public static final String REQUEST_IDS_STORE = "ingest-request-ids";
    /** Per-model batch state: current version, waiting requests, set in flight. */
    public static final String BATCHES_STORE = "ingest-batches";
    /** Name of the internal repartition topic (prefixed by the application id, suffixed "-repartition"). */
    public static final String REQUESTS_BY_MODEL = "requests-by-model";

    private IngestTopology() {
    }

    /**
     * Adds the ingest topology to {@code builder}.
     *
     * @param serdes    value serdes of the catalogue topics (registry-backed; plain Avro in unit tests)
     * @param catalogue which models and tenants are valid
     * @param artifacts where request contents and forget sets are written
     * @param metrics   the service's metrics (requests by status, duplicates, dead letters)
     */
    public static void buildTopology(StreamsBuilder builder, IngestConfig config, ValueSerdeFactory serdes,
                                     ModelCatalogue catalogue, ArtifactStore artifacts, ServiceMetrics metrics) {
        String service = "ingest-service/" + config.common().instanceId();
        AuditEmitter audit = new AuditEmitter(service, Clock.systemUTC(), metrics);
        DeadLetterPublisher deadLetters = new DeadLetterPublisher(service, Clock.systemUTC(), metrics);
        RequestValidator validator = new RequestValidator(catalogue, config.maxContentBytes());

        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REQUEST_IDS_STORE),
                Serdes.String(), Serdes.Long()));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BATCHES_STORE),
                Serdes.String(), new JsonSerde<>(ModelBatchState.class)));

        KStream<String, IngestOutput> intake = builder
                .stream(Topics.ERASURE_REQUESTS.name(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName("erasure-requests"))
                .process(() -> new RequestIntake(serdes, validator, artifacts, audit, deadLetters, metrics,
                                config.dedupeRetention()),
                        Named.as("request-intake"), REQUEST_IDS_STORE);
        Map<String, KStream<String, IngestOutput>> routes = route(intake, "intake-");
        toAudit(routes.get("intake-audit"), serdes, "intake");
        routes.get("intake-dead-letters")
                .map((k, v) -> KeyValue.pair(((IngestOutput.DeadLettered) v).key(), ((IngestOutput.DeadLettered) v).letter()),
                        Named.as("dead-letter-records"))
                .to(Topics.DEAD_LETTERS.name(), Produced.<byte[], DeadLetter>with(Serdes.ByteArray(),
                        Topics.DEAD_LETTERS.valueSerde(serdes)).withName("dead-letters-sink"));

        KStream<String, ForgetSetBatcher.Input> members = routes.get("intake-accepted")
                .mapValues(v -> ((IngestOutput.Accepted) v).member(), Named.as("accepted-members"))
                .repartition(Repartitioned.with(Serdes.String(), new JsonSerde<>(BatchMember.class))
                        .withName(REQUESTS_BY_MODEL)
                        .withNumberOfPartitions(Topics.VERIFICATIONS.partitions()))
                .mapValues(ForgetSetBatcher.Input::member, Named.as("member-input"));
        KStream<String, ForgetSetBatcher.Input> verdicts = builder
                .stream(Topics.VERIFICATIONS.name(), Consumed.<String, VerificationResult>with(Serdes.String(),
                        Topics.VERIFICATIONS.valueSerde(serdes)).withName("verifications"))
                .mapValues(ForgetSetBatcher.Input::verdict, Named.as("verdict-input"));

        KStream<String, IngestOutput> batched = members.merge(verdicts, Named.as("batcher-input"))
                .process(() -> new ForgetSetBatcher(config.batchMaxRequests(), config.batchMaxWait(),
                        config.batchCheckInterval(), artifacts, audit), Named.as("forget-set-batcher"), BATCHES_STORE);
        Map<String, KStream<String, IngestOutput>> out = route(batched, "batcher-");
        toAudit(out.get("batcher-audit"), serdes, "batcher");
        out.get("batcher-forget-sets")
                .mapValues(v -> ((IngestOutput.ForgetSet) v).event(), Named.as("forget-set-events"))
                .to(Topics.FORGET_SETS.name(), Produced.<String, ForgetSetReady>with(Serdes.String(),
                        Topics.FORGET_SETS.valueSerde(serdes)).withName("forget-sets-sink"));
    }

    private static Map<String, KStream<String, IngestOutput>> route(KStream<String, IngestOutput> stream, String prefix) {
        return stream.split(Named.as(prefix))
                .branch((k, v) -> v instanceof IngestOutput.Audit, Branched.as("audit"))
                .branch((k, v) -> v instanceof IngestOutput.DeadLettered, Branched.as("dead-letters"))
                .branch((k, v) -> v instanceof IngestOutput.ForgetSet, Branched.as("forget-sets"))
                .defaultBranch(Branched.as("accepted"));
    }

    private static void toAudit(KStream<String, IngestOutput> stream, ValueSerdeFactory serdes, String from) {
        stream.mapValues(v -> ((IngestOutput.Audit) v).event(), Named.as(from + "-audit-events"))
                .to(Topics.AUDIT.name(), Produced.<String, AuditEvent>with(Serdes.String(), Topics.AUDIT.valueSerde(serdes))
                        .withName(from + "-audit-sink"));
    }
}
