package dev.loku.runtime.audit;

import dev.loku.runtime.kafka.OutputStamp;
import dev.loku.runtime.kafka.TopicRecord;
import java.util.List;

/**
 * Links every audit event among a transactional job's outputs into one {@link AuditChain}, and moves the chain back
 * when the transaction aborts, so that the chain readers see has no hole where an aborted attempt's events were.
 */
public final class AuditChainStamp implements OutputStamp {

    private final AuditChain chain;
    private AuditChain.Position beforeAttempt;

    public AuditChainStamp(AuditChain chain) {
        this.chain = chain;
    }

    @Override
    public List<TopicRecord<?, ?>> stamp(List<TopicRecord<?, ?>> outputs) {
        beforeAttempt = chain.position();
        return outputs.stream().<TopicRecord<?, ?>>map(chain::link).toList();
    }

    @Override
    public void committed() {
        beforeAttempt = null;
    }

    @Override
    public void aborted() {
        if (beforeAttempt != null) {
            chain.reset(beforeAttempt);
            beforeAttempt = null;
        }
    }
}
