/**
 * Metrics in the Prometheus text exposition format: a small {@link dev.loku.runtime.metrics.MetricsRegistry}
 * (counters, gauges, histograms) and the families every service exposes,
 * {@link dev.loku.runtime.metrics.ServiceMetrics}. Label values are statuses and names from code, never data.
 */
package dev.loku.runtime.metrics;
