/**
 * The Fisher pass's accumulation (docs/method.md §2.2): token-weighted squared mini-batch gradients of named weights,
 * separately for forget and retain data, and the result with its counts and provenance.
 */
package dev.loku.core.fisher;
