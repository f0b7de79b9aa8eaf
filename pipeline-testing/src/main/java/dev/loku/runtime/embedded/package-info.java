/**
 * Real infrastructure in one process tree, for tests and the embedded demo: an in-process KRaft broker
 * ({@link dev.loku.runtime.embedded.EmbeddedKafka}), an Apicurio Registry child process on Java 21+
 * ({@link dev.loku.runtime.embedded.EmbeddedRegistry}), and both with the catalogue topics created
 * ({@link dev.loku.runtime.embedded.EmbeddedStack}). Tests get a shared one through the JUnit extension
 * {@link dev.loku.runtime.testing.LokuStackExtension} of this module.
 */
package dev.loku.runtime.embedded;
