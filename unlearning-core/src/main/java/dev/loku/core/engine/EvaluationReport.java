package dev.loku.core.engine;

/** Every metric of {@link RecordSetEvaluator} for the three record sets of a job (LOKU-SPEC §5.1). */
public record EvaluationReport(RecordSetScores forget, RecordSetScores retain, RecordSetScores unseen) {}
