package dev.loku.schemas;

import org.apache.kafka.common.config.TopicConfig;

/** How Kafka discards old records of a topic ({@code cleanup.policy}). */
public enum CleanupPolicy {
    /** Records are deleted once older than the topic's {@code retention.ms}. */
    DELETE(TopicConfig.CLEANUP_POLICY_DELETE),
    /** Only the latest record per key is kept, for as long as the topic lives. */
    COMPACT(TopicConfig.CLEANUP_POLICY_COMPACT);

    private final String configValue;

    CleanupPolicy(String configValue) {
        this.configValue = configValue;
    }

    /** The value of Kafka's {@code cleanup.policy} topic setting. */
    public String configValue() {
        return configValue;
    }
}
