/**
 * Serialization of the events: registry-backed value serdes in the Confluent wire format
 * ({@link dev.loku.runtime.serde.RegistrySerdes}; over the Confluent REST protocol by default,
 * {@link dev.loku.runtime.serde.ConfluentRegistrySerdes}, or Apicurio's v3 API,
 * {@link dev.loku.runtime.serde.ApicurioRegistrySerdes}), the format itself
 * ({@link dev.loku.runtime.serde.ConfluentWireFormat}), and the Confluent-protocol REST client
 * ({@link dev.loku.runtime.serde.SchemaRegistryClient}).
 */
package dev.loku.runtime.serde;
