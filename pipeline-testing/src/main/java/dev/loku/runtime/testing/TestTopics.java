package dev.loku.runtime.testing;

import dev.loku.runtime.embedded.StackEndpoints;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/** Topics of a test's own, so tests sharing one broker never read each other's records. */
public final class TestTopics {

    private TestTopics() {
    }

    /** Creates a topic named {@code <prefix>-<random>} with {@code partitions} partitions; returns its name. */
    public static String create(StackEndpoints stack, String prefix, int partitions) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        try (Admin admin = stack.admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
            return name;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("could not create test topic " + name + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
