package dev.loku.core.engine;

/**
 * What one unlearning epoch did and measured (docs/method.md §3.2): the objective's loss over the epoch's micro-batches,
 * then forget MA/EL_10 and retain MA/NLL after the epoch's update. Epoch 0 is measured before any update (its loss is
 * the objective's value on the first epoch's batches at the starting weights).
 *
 * @param seconds wall-clock seconds of the epoch, update and measurement together
 */
public record EpochRecord(int epoch, double loss, double forgetMa, double forgetEl10, double retainMa,
                          double retainNll, double seconds) {}
