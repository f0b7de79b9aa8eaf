package dev.loku.runtime.embedded;

import dev.loku.runtime.serde.CcompatClient;
import dev.loku.runtime.serde.RegistrySerdes;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;

/**
 * Where a running broker and registry answer: what a service or a test needs to connect.
 *
 * @param bootstrapServers Kafka's {@code bootstrap.servers}
 * @param registryUrl      the registry's core API for Apicurio serdes ({@code .../apis/registry/v3})
 * @param ccompatUrl       the registry's Confluent-compatible API ({@code .../apis/ccompat/v7})
 */
public record StackEndpoints(String bootstrapServers, String registryUrl, String ccompatUrl) {

    /** Registry-backed value serdes for catalogue topics. */
    public RegistrySerdes serdes() {
        return new RegistrySerdes(registryUrl);
    }

    /** A client for the Confluent-compatible API. */
    public CcompatClient ccompat() {
        return new CcompatClient(ccompatUrl);
    }

    /** A new Admin client; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }
}
