package dev.loku.runtime.kafka;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.junit.jupiter.api.Test;

/**
 * Which commit failures end a runner instead of being retried. A producer whose transaction a missing ACL refused
 * reports it as a plain {@link KafkaException} ("in an error state") with the authorization error as its cause;
 * retrying the same outputs fails the same way for ever, so the cause decides.
 */
class TransactionalJobRunnerFatalCauseTest {

    @Test
    void aTopicTheUserMayNotWriteIsFatalEvenWhenTheProducerWrapsIt() {
        TopicAuthorizationException refused = new TopicAuthorizationException(Set.of("loku.verifications"));
        KafkaException wrapped = new KafkaException("Cannot execute transactional method because we are in an error "
                + "state", refused);
        assertSame(refused, TransactionalJobRunner.fatalCause(refused));
        assertSame(refused, TransactionalJobRunner.fatalCause(wrapped));
        assertSame(refused, TransactionalJobRunner.fatalCause(new IllegalStateException("commit", wrapped)));
        TransactionalIdAuthorizationException noTxnId = new TransactionalIdAuthorizationException("loku-fisher-1");
        assertSame(noTxnId, TransactionalJobRunner.fatalCause(new KafkaException(noTxnId)));
    }

    @Test
    void aFencedProducerIsFatal() {
        ProducerFencedException fenced = new ProducerFencedException("another instance took over");
        assertSame(fenced, TransactionalJobRunner.fatalCause(new KafkaException(fenced)));
    }

    @Test
    void aBrokerHiccupIsRetried() {
        assertNull(TransactionalJobRunner.fatalCause(new TimeoutException("the broker did not answer")));
        assertNull(TransactionalJobRunner.fatalCause(new KafkaException("aborted", new TimeoutException("slow"))));
        assertNull(TransactionalJobRunner.fatalCause(new IllegalStateException("no transaction open")));
    }
}
