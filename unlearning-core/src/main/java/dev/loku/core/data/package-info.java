/**
 * Data sets (docs/method.md §7): JSONL text and question/answer records, their tokenisation into ids and labels with the
 * reference's masking, and right-padded collation into [B, T] batches.
 */
package dev.loku.core.data;
