package dev.loku.core.engine;

/**
 * A model's scores on the three record sets of an unlearning job (LOKU-SPEC §5.1): memorisation accuracy (MA) and
 * extraction likelihood EL_10 on the forget and unseen sets, MA and mean NLL per token on the retain set. The unseen
 * MA/EL_10 of the model before unlearning are the stop-rule thresholds (§3.2).
 */
public record ModelScores(double forgetMa, double forgetEl10, double retainMa, double retainNll, double unseenMa,
                          double unseenEl10) {}
