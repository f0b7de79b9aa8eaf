package dev.loku.core.metrics;

/**
 * How much retained knowledge unlearning may cost: the largest allowed drop in memorisation accuracy on retained
 * data, as a fraction (0.10 = 10 points).
 */
public record RetainTolerance(double maxMaDrop) {

    /** The acceptance bar of the unlearning issue: retained MA within 10 points of before. */
    public static final RetainTolerance TEN_POINTS = new RetainTolerance(0.10);

    public RetainTolerance {
        if (!(maxMaDrop >= 0)) {
            throw new IllegalArgumentException("the allowed MA drop must be >= 0, got " + maxMaDrop);
        }
    }

    /** True when {@code after} is at most {@code maxMaDrop} below {@code before}; false on NaN. */
    public boolean kept(double retainMaBefore, double retainMaAfter) {
        return retainMaBefore - retainMaAfter <= maxMaDrop;
    }
}
