package dev.loku.runtime.kafka;

import dev.loku.schemas.Topic;
import dev.loku.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates catalogue topics that do not exist yet, with the catalogue's partitions, retention and cleanup policy.
 * Idempotent: existing topics are left exactly as they are (their settings are the operators' to change), and a
 * topic created concurrently by another instance counts as existing.
 */
public final class TopicProvisioner {

    private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

    private TopicProvisioner() {
    }

    /** Ensures every catalogue topic exists; returns the names it created. */
    public static List<String> ensureCatalogue(Admin admin, Duration timeout) {
        return ensure(admin, Topics.ALL, timeout);
    }

    /** Ensures {@code topics} exist, with the broker's default replication; returns the names it created. */
    public static List<String> ensure(Admin admin, Collection<? extends Topic<?, ?>> topics, Duration timeout) {
        try {
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).map(Topic::newTopic).toList();
            if (missing.isEmpty()) {
                return List.of();
            }
            CreateTopicsResult result = admin.createTopics(missing);
            List<String> created = new ArrayList<>();
            for (Map.Entry<String, KafkaFuture<Void>> e : result.values().entrySet()) {
                try {
                    e.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    created.add(e.getKey());
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw ex;
                    }
                }
            }
            LOG.info("event=topics_created topics={}", created);
            return created;
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not create Kafka topics: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer within " + timeout + " while creating topics; "
                    + "is the broker at the configured bootstrap servers running?", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }

    /**
     * Waits until every partition of {@code topics} has a leader, so that a producer's first batch does not meet a
     * partition still being elected (a fresh broker answers NOT_LEADER_OR_FOLLOWER for a moment after creating a
     * topic; an idempotent producer retrying that first batch can then be refused for ever as out of sequence).
     *
     * @throws IllegalStateException naming the partitions still without a leader when {@code timeout} runs out
     */
    public static void awaitLeaders(Admin admin, Collection<String> topics, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> leaderless = List.of();
        try {
            while (System.nanoTime() < deadline) {
                leaderless = new ArrayList<>();
                try {
                    for (TopicDescription t : admin.describeTopics(topics).allTopicNames()
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS).values()) {
                        for (TopicPartitionInfo p : t.partitions()) {
                            if (p.leader() == null || p.leader().isEmpty()) {
                                leaderless.add(t.name() + "-" + p.partition());
                            }
                        }
                    }
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                    // a topic just created: this broker's metadata has not caught up yet
                    leaderless.add(String.valueOf(e.getCause().getMessage()));
                }
                if (leaderless.isEmpty()) {
                    return;
                }
                Thread.sleep(50);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not describe Kafka topics " + topics, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for partition leaders", e);
        }
        throw new IllegalStateException("partitions still without a leader after " + timeout + ": " + leaderless);
    }
}
