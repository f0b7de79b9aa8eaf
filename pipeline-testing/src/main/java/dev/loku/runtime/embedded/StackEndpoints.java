package dev.loku.runtime.embedded;

import dev.loku.runtime.config.RegistryConfig;
import dev.loku.runtime.serde.ApicurioRegistrySerdes;
import dev.loku.runtime.serde.RegistrySerdes;
import dev.loku.runtime.serde.SchemaRegistryClient;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;

/**
 * Where a running broker and registry answer: what a service or a test needs to connect.
 *
 * @param bootstrapServers Kafka's {@code bootstrap.servers}
 * @param registryUrl      the registry's own v3 API, for {@code registry.api=apicurio-v3} ({@code .../apis/registry/v3})
 * @param ccompatUrl       the registry's Confluent-compatible API ({@code .../apis/ccompat/v7}): the services'
 *                         default {@code registry.url}
 */
public record StackEndpoints(String bootstrapServers, String registryUrl, String ccompatUrl) {

    /** The registry as the services see it by default: the Confluent protocol at {@link #ccompatUrl}. */
    public RegistryConfig registry() {
        return RegistryConfig.of(RegistryConfig.Api.CONFLUENT, ccompatUrl);
    }

    /** Registry-backed value serdes for catalogue topics, over the Confluent protocol (the services' default). */
    public RegistrySerdes serdes() {
        return RegistrySerdes.forConfig(registry());
    }

    /** The same, through Apicurio's v3 API and serdes ({@code registry.api=apicurio-v3}). */
    public RegistrySerdes apicurioSerdes() {
        return new ApicurioRegistrySerdes(RegistryConfig.of(RegistryConfig.Api.APICURIO_V3, registryUrl));
    }

    /** A Confluent-protocol client for the registry. */
    public SchemaRegistryClient registryClient() {
        return new SchemaRegistryClient(ccompatUrl);
    }

    /** A new Admin client; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }
}
