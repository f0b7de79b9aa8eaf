/**
 * Forgetting metrics (docs/method.md §5.1 and OpenUnlearning): memorisation accuracy, exact memorisation and extraction
 * strength from teacher-forced argmax predictions; extraction likelihood EL_n from an injected greedy
 * {@link dev.loku.core.metrics.ContinuationGenerator}; perplexity; unseen-data thresholds, the stop rule and the
 * verdict.
 */
package dev.loku.core.metrics;
