package dev.flinkrwkv.jobs.logs;

import java.io.Serializable;

/**
 * Turns a line's {@link LineSurprisal} into a {@link LineScore} against its key's {@link Baseline}, and
 * moves the baseline on. The one place where score-logs (streaming, per key in Flink state) and eval-logs
 * (offline, per file) decide what is anomalous, so both give the same scores for the same surprisals.
 *
 * <p>The score is the line's mean surprisal standardized against the key's lines <em>before</em> it:
 * {@code z = (meanBits - baseline.mean) / max(baseline.std, minStd)}. It is 0 while the key has seen fewer
 * than {@code warmup} lines (there is no meaningful "normal" yet), and a line is flagged when
 * {@code z > threshold}. Only unusually <em>high</em> surprisal is anomalous. Every line, flagged or not,
 * then updates the baseline: a lasting change in a source's output becomes the new normal.
 */
public final class AnomalyDetector implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Defaults: forget at rate 0.02 (about the last 50 lines), 20 warm-up lines, flag above 3 sigma. */
    public static final double DEFAULT_ALPHA = 0.02;
    public static final int DEFAULT_WARMUP = 20;
    public static final double DEFAULT_THRESHOLD = 3.0;
    public static final double DEFAULT_MIN_STD = 0.05;

    private final double alpha;
    private final int warmup;
    private final double threshold;
    private final double minStd;

    public AnomalyDetector(double alpha, int warmup, double threshold, double minStd) {
        if (!(alpha > 0 && alpha <= 1)) {
            throw new IllegalArgumentException("the baseline's alpha must be in (0, 1], got " + alpha);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("the warm-up must be at least 0 lines, got " + warmup);
        }
        if (!(minStd > 0)) {
            throw new IllegalArgumentException("the minimum standard deviation must be positive, got " + minStd);
        }
        this.alpha = alpha;
        this.warmup = warmup;
        this.threshold = threshold;
        this.minStd = minStd;
    }

    public static AnomalyDetector defaults() {
        return new AnomalyDetector(DEFAULT_ALPHA, DEFAULT_WARMUP, DEFAULT_THRESHOLD, DEFAULT_MIN_STD);
    }

    public double threshold() {
        return threshold;
    }

    /**
     * Scores one line of {@code key} (at {@code source}/{@code partition}/{@code offset}, as in the input)
     * and updates {@code baseline} in place.
     */
    public LineScore score(String key, String source, int partition, long offset, LineSurprisal s, Baseline baseline) {
        double mean = baseline.mean;
        double std = baseline.std(minStd);
        boolean warm = baseline.count >= warmup && baseline.count > 0;
        double z = warm ? (s.meanBits() - mean) / std : 0.0;
        boolean flagged = warm && z > threshold;
        LineScore out = new LineScore(key, source, partition, offset, s.tokens(), s.meanBits(), s.maxBits(),
                s.maxPosition(), mean, baseline.count == 0 ? 0 : Math.sqrt(baseline.variance), baseline.count, z, flagged);
        baseline.update(s.meanBits(), alpha);
        return out;
    }
}
