package dev.flinkrwkv.jobs.logs;

/**
 * How surprising one line was to a model: the number of tokens scored, the mean surprisal in bits per
 * token, and the largest single token's surprisal and where it is (token index within the line, from 0).
 * A scorer that sees only the whole line (a compressor) reports its total as the mean over the tokens and
 * no maximum ({@code maxBits} NaN, {@code maxPosition} -1).
 */
public record LineSurprisal(int tokens, double meanBits, double maxBits, int maxPosition) {
    private static final double LOG2E = 1.0 / Math.log(2);

    /** From per-token surprisals in bits, {@code bits[from .. from+n)}. */
    public static LineSurprisal fromBits(double[] bits, int from, int n) {
        return of(i -> bits[from + i], n);
    }

    /**
     * From per-token log-probabilities in nats (what the model and the operator give, {@code ln p} &lt;= 0):
     * surprisal in bits is {@code -ln p / ln 2}.
     */
    public static LineSurprisal fromLogProbs(float[] logProbs, int from, int n) {
        return of(i -> -logProbs[from + i] * LOG2E, n);
    }

    private static LineSurprisal of(java.util.function.IntToDoubleFunction bitsAt, int n) {
        if (n == 0) {
            return new LineSurprisal(0, 0, Double.NaN, -1);
        }
        double sum = 0;
        double max = Double.NEGATIVE_INFINITY;
        int at = -1;
        for (int i = 0; i < n; i++) {
            double b = bitsAt.applyAsDouble(i);
            sum += b;
            if (b > max) {  // strict: the first of equal maxima
                max = b;
                at = i;
            }
        }
        return new LineSurprisal(n, sum / n, max, at);
    }

    /** From a total in bits for the whole line (no per-token detail). */
    public static LineSurprisal fromTotalBits(double totalBits, int tokens) {
        return new LineSurprisal(tokens, tokens == 0 ? 0 : totalBits / tokens, Double.NaN, -1);
    }
}
