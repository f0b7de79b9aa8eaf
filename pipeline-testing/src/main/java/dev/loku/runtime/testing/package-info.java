/**
 * The test kit every module's tests share (pipeline-testing, a test-scoped dependency of each service):
 * {@link dev.loku.runtime.testing.LokuStackExtension} (real broker + registry, one per test JVM),
 * {@link dev.loku.runtime.testing.TestClients} and {@link dev.loku.runtime.testing.TestTopics},
 * {@link dev.loku.runtime.testing.SampleEvents}, {@link dev.loku.runtime.testing.PlainAvroSerdes} for
 * TopologyTestDriver, {@link dev.loku.runtime.testing.PipelineFixtures} (stores, keys and catalogue of one job),
 * {@link dev.loku.runtime.testing.PrometheusText} for /metrics scrapes, and the end-to-end
 * {@link dev.loku.runtime.testing.RoundTripCheck}.
 */
package dev.loku.runtime.testing;
