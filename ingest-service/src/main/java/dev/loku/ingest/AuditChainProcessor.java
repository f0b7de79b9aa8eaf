package dev.loku.ingest;

import dev.loku.events.AuditEvent;
import dev.loku.runtime.audit.AuditChain;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The last step before ingest's audit sinks: links each event into the task's audit chain (docs/pipeline.md,
 * "Audit integrity"). One chain per stream task and branch ({@code <application id>/<branch>/<task id>}), so it
 * survives a restart or a move to another instance: its position is kept in a state store, which exactly-once
 * processing commits with the events it produced and rolls back with them, so an aborted transaction leaves no
 * hole in the chain.
 */
final class AuditChainProcessor implements Processor<String, AuditEvent, String, AuditEvent> {

    private static final String HEAD = "head";

    private final String storeName;
    private final String branch;
    private ProcessorContext<String, AuditEvent> context;
    private KeyValueStore<String, String> store;
    private String chainId;

    AuditChainProcessor(String storeName, String branch) {
        this.storeName = storeName;
        this.branch = branch;
    }

    @Override
    public void init(ProcessorContext<String, AuditEvent> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        this.chainId = context.applicationId() + "/" + branch + "/" + context.taskId();
    }

    @Override
    public void process(Record<String, AuditEvent> record) {
        String stored = store.get(HEAD);
        AuditChain chain = new AuditChain(chainId,
                stored == null ? AuditChain.Position.start() : AuditChain.Position.decode(stored));
        AuditEvent linked = chain.link(record.value());
        store.put(HEAD, chain.position().encode());
        context.forward(record.withValue(linked));
    }
}
