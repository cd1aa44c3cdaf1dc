package dev.flinkrwkv.jobs.logs;

import java.nio.ByteBuffer;

/**
 * A key's running picture of "normal": an exponentially weighted mean and variance of the recent lines'
 * mean surprisal, and how many lines it has seen. Small on purpose (24 bytes), since there is one per key
 * in Flink keyed state. A Flink POJO; {@link #toBytes()}/{@link #fromBytes} give a fixed binary form for a
 * {@code ValueState<byte[]>}.
 *
 * <p>The update is the incremental exponentially weighted form (West 1979):
 * {@code d = x - mean; mean += a d; var = (1 - a)(var + a d^2)}, with the weight
 * {@code a = max(alpha, 1/count)}: the first lines are weighted as a plain average, so the baseline is
 * usable after a few lines instead of creeping up from zero, and from about {@code 1/alpha} lines on it
 * forgets at rate {@code alpha}.
 */
public class Baseline {
    public static final int BYTES = 24;

    /** Lines seen. */
    public long count;
    /** Weighted mean of the lines' mean surprisal, bits per token. */
    public double mean;
    /** Weighted variance of the same, bits^2. */
    public double variance;

    public Baseline() {}

    public Baseline(long count, double mean, double variance) {
        this.count = count;
        this.mean = mean;
        this.variance = variance;
    }

    /** Adds one line's value. */
    public void update(double x, double alpha) {
        count++;
        double a = Math.max(alpha, 1.0 / count);
        double d = x - mean;
        mean += a * d;
        variance = (1 - a) * (variance + a * d * d);
    }

    /** The standard deviation, floored at {@code minStd} so that a perfectly regular history cannot divide by zero. */
    public double std(double minStd) {
        return Math.max(Math.sqrt(variance), minStd);
    }

    public byte[] toBytes() {
        return ByteBuffer.allocate(BYTES).putLong(count).putDouble(mean).putDouble(variance).array();
    }

    public static Baseline fromBytes(byte[] b) {
        if (b == null) {
            return new Baseline();
        }
        if (b.length != BYTES) {
            throw new IllegalArgumentException("a baseline is " + BYTES + " bytes, got " + b.length);
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new Baseline(buf.getLong(), buf.getDouble(), buf.getDouble());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Baseline x && count == x.count && Double.compare(mean, x.mean) == 0
                && Double.compare(variance, x.variance) == 0;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(count) * 31 + Double.hashCode(mean) * 17 + Double.hashCode(variance);
    }

    @Override
    public String toString() {
        return "Baseline{count=" + count + ", mean=" + mean + ", variance=" + variance + "}";
    }
}
