package dev.loku.runtime.kafka;

import dev.loku.events.DeadLetter;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.schemas.Topics;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams handler for records a topology cannot deserialize: logs one data-free line (topic, partition,
 * offset, reason), writes a {@link DeadLetter} holding the original bytes to {@code loku.dead-letters} (key = the
 * original key bytes) through Streams' own producer, hence in the same transaction under exactly_once_v2, and lets
 * processing resume with the next record. If the dead letter cannot even be built, it fails the task rather than
 * lose the record.
 *
 * <p>Enable it with {@link #streamsConfig(RegistrySerdes)} merged into the app's properties.
 */
public class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {

    /** Streams property naming the service in dead letters; defaults to the application id. */
    public static final String SERVICE_NAME_CONFIG = "loku.service.name";
    /** Streams property holding the {@link RegistrySerdes} (an object, not text) that dead letters are written with. */
    public static final String SERDES_CONFIG = "loku.dead-letter.serdes";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

    private Serializer<DeadLetter> serializer;
    private String service;
    private Clock clock = Clock.systemUTC();

    /**
     * The Streams properties that install this handler and hand it the serdes (registry, API and credentials) to
     * write dead letters with.
     */
    public static Map<String, Object> streamsConfig(RegistrySerdes serdes) {
        return Map.of(
                StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class,
                SERDES_CONFIG, serdes);
    }

    @Override
    public void configure(Map<String, ?> configs) {
        if (!(configs.get(SERDES_CONFIG) instanceof RegistrySerdes serdes)) {
            throw new ConfigException(getClass().getSimpleName() + " needs the registry serdes in the Streams "
                    + "property " + SERDES_CONFIG + " to write dead letters; add "
                    + "DeadLetterDeserializationHandler.streamsConfig(serdes) to the app's properties");
        }
        Object name = configs.get(SERVICE_NAME_CONFIG);
        if (name == null) {
            name = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
        }
        service = name == null ? "unknown-service" : name.toString();
        serializer = serdes.valueSerializer(Topics.DEAD_LETTERS);
    }

    void clock(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
                                Exception exception) {
        UndecodableRecord bad = UndecodableRecord.of(record, UndecodableRecord.Part.KEY_OR_VALUE, exception);
        byte[] deadLetter;
        try {
            deadLetter = serializer.serialize(Topics.DEAD_LETTERS.name(), bad.toDeadLetter(service, clock.instant()));
        } catch (RuntimeException e) {
            LOG.error("{}; dead letter could not be written ({}: {}), stopping the task so the record is not lost",
                    bad.describe(), e.getClass().getSimpleName(), e.getMessage());
            return Response.fail();
        }
        LOG.warn("{}; dead-lettered to {}", bad.describe(), Topics.DEAD_LETTERS.name());
        return Response.resume(List.of(new ProducerRecord<>(Topics.DEAD_LETTERS.name(), null, record.key(), deadLetter)));
    }
}
