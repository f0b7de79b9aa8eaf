/** Benchmarks that need nothing but the engine's runtime classpath (so they can run on any libtorch). */
package dev.loku.core.bench;
