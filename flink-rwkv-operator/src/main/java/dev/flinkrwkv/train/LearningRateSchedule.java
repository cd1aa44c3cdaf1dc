package dev.flinkrwkv.train;

/**
 * Linear warm-up from zero to the peak rate over the first {@code warmupSteps} steps, then cosine decay to
 * {@code finalFraction} of the peak as the run's progress goes from 0 to 1. Progress is a fraction so that
 * a run bounded by time (progress = elapsed / limit) decays as one bounded by steps does.
 */
public record LearningRateSchedule(double peak, double finalFraction, int warmupSteps) {
    public LearningRateSchedule {
        if (!(peak > 0) || finalFraction < 0 || finalFraction > 1 || warmupSteps < 0) {
            throw new IllegalArgumentException("learning rate must be positive, final fraction in [0, 1], warm-up >= 0");
        }
    }

    /** The rate for step {@code step} (0-based) at run progress {@code progress} in [0, 1]. */
    public double rate(long step, double progress) {
        double p = Math.min(1, Math.max(0, progress));
        double decayed = peak * (finalFraction + (1 - finalFraction) * 0.5 * (1 + Math.cos(Math.PI * p)));
        if (step < warmupSteps) {
            return decayed * (step + 1) / warmupSteps;
        }
        return decayed;
    }
}
