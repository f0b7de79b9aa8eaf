/**
 * What a service exposes on {@code /metrics}: {@link dev.loku.runtime.metrics.ServiceMetrics}, a Micrometer
 * registry in the Prometheus text format with the pipeline's {@code loku_*} families, the engine figures a service
 * sees at the engine's boundary, the JVM's and the Kafka clients'. Label values are statuses and names from code,
 * never data.
 */
package dev.loku.runtime.metrics;
