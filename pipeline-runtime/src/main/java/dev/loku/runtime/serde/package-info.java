/**
 * Serialization of the events: registry-backed value serdes in the Confluent wire format
 * ({@link dev.loku.runtime.serde.RegistrySerdes}), the format itself ({@link dev.loku.runtime.serde.ConfluentWireFormat}),
 * and a client for the registry's Confluent-compatible API ({@link dev.loku.runtime.serde.CcompatClient}).
 */
package dev.loku.runtime.serde;
