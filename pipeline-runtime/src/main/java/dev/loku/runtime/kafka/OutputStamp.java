package dev.loku.runtime.kafka;

import java.util.List;

/**
 * Rewrites a job's outputs just before a {@link TransactionalJobRunner} publishes them, and is told whether the
 * transaction that carried them committed or aborted, so that state it keeps about what was published (an audit
 * chain's head) follows only what readers will ever see. Each commit attempt stamps the job's original outputs
 * again, after {@link #aborted()} undid the previous attempt. Called from the runner's loop thread only.
 */
public interface OutputStamp {

    /** Publishes the outputs as they are. */
    OutputStamp NONE = new OutputStamp() {
        @Override
        public List<TopicRecord<?, ?>> stamp(List<TopicRecord<?, ?>> outputs) {
            return outputs;
        }

        @Override
        public void committed() {
        }

        @Override
        public void aborted() {
        }
    };

    /** The records to publish in place of {@code outputs}, for one attempt at a transaction. */
    List<TopicRecord<?, ?>> stamp(List<TopicRecord<?, ?>> outputs);

    /** The last stamped records were committed. */
    void committed();

    /** The last stamped records were not published (the transaction aborted or never began): forget them. */
    void aborted();
}
