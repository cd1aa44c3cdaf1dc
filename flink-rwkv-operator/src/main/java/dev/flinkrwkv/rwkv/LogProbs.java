package dev.flinkrwkv.rwkv;

/** Log-probabilities from logits (natural log), computed stably in double. */
public final class LogProbs {
    private LogProbs() {}

    /** {@code log softmax(logits)[token]} over {@code n} logits at {@code off}. */
    public static double of(float[] logits, int off, int n, int token) {
        return logits[off + token] - logSumExp(logits, off, n);
    }

    /** {@code log sum exp(logits)}. */
    public static double logSumExp(float[] logits, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return max + Math.log(sum);
    }
}
