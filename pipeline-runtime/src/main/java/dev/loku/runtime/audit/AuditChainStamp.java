package dev.loku.runtime.audit;

import dev.loku.events.AuditEvent;
import dev.loku.runtime.kafka.OutputStamp;
import dev.loku.runtime.kafka.TopicRecord;
import dev.loku.schemas.Topics;
import java.util.ArrayList;
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

    public AuditChain chain() {
        return chain;
    }

    @Override
    public List<TopicRecord<?, ?>> stamp(List<TopicRecord<?, ?>> outputs) {
        beforeAttempt = chain.position();
        List<TopicRecord<?, ?>> out = new ArrayList<>(outputs.size());
        for (TopicRecord<?, ?> r : outputs) {
            if (r.topic() == Topics.AUDIT && r.value() instanceof AuditEvent e) {
                out.add(new TopicRecord<>(Topics.AUDIT, r.topicName(), (String) r.key(), chain.link(e)));
            } else {
                out.add(r);
            }
        }
        return out;
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
