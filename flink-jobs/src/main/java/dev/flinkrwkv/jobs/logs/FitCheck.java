package dev.flinkrwkv.jobs.logs;

import org.apache.flink.api.common.functions.MapFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Warns, once, when the stream's mean surprisal is far above the loss the model reached on held-out text
 * when it was fitted ({@link FitInfo}): after {@link #LINES} lines, more than {@link #FACTOR} times as many
 * bits per byte means the model was fitted to something else and its scores say little. Passes every line
 * on unchanged. Each parallel instance measures the lines it sees and warns at most once.
 *
 * <p>It reads the lines' token surprisals, before any line statistic: a line's score may be a maximum or a
 * sum over its message's first tokens ({@link LineStatistic}), which is not in bits per byte.
 */
public final class FitCheck implements MapFunction<LineTokens, LineTokens> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(FitCheck.class);
    public static final int LINES = 100;
    public static final double FACTOR = 2;

    private final double expectedBitsPerByte;
    private final String modelName;
    private double bits;
    private long tokens;
    private long lines;
    private boolean decided;

    public FitCheck(double expectedBitsPerByte, String modelName) {
        this.expectedBitsPerByte = expectedBitsPerByte;
        this.modelName = modelName;
    }

    @Override
    public LineTokens map(LineTokens line) {
        if (decided) {  // the first lines decided it: no work per line from then on
            return line;
        }
        LineSurprisal s = LineSurprisal.fromLogProbs(line.logProbs, 0, line.logProbs.length);
        String warning = observe(s.tokens(), s.meanBits());
        if (warning != null) {
            LOG.warn(warning);
        }
        return line;
    }

    /**
     * Adds a line of {@code lineTokens} tokens at {@code meanBits} bits each; returns the warning when the
     * {@link #LINES}-th line shows the model does not fit, else null.
     */
    String observe(int lineTokens, double meanBits) {
        if (decided) {
            return null;
        }
        if (lineTokens > 0) {
            bits += meanBits * lineTokens;
            tokens += lineTokens;
        }
        if (++lines < LINES || tokens == 0) {
            return null;
        }
        decided = true;
        double mean = bits / tokens;
        if (!(mean > FACTOR * expectedBitsPerByte)) {
            return null;
        }
        return String.format(Locale.ROOT, "the model does not fit this stream: %.2f bits per byte over its first %d"
                        + " lines, %.1fx the %.2f it reached on held-out text when fitted (%s); its scores say little"
                        + " here: fit a model to this kind of log", mean, lines, mean / expectedBitsPerByte,
                expectedBitsPerByte, modelName);
    }
}
