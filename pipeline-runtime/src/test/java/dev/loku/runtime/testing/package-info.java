/**
 * Test support shared by every module's tests through pipeline-runtime's test jar:
 * {@link dev.loku.runtime.testing.LokuStackExtension} (real broker + registry, one per test JVM),
 * {@link dev.loku.runtime.testing.TestClients} and {@link dev.loku.runtime.testing.TestTopics},
 * {@link dev.loku.runtime.testing.SampleEvents}, {@link dev.loku.runtime.testing.PlainAvroSerdes} for
 * TopologyTestDriver, and the end-to-end {@link dev.loku.runtime.testing.RoundTripCheck}.
 */
package dev.loku.runtime.testing;
