package dev.flinkrwkv.operator;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Arrays;
import java.util.Objects;

/**
 * The operator's output for one input record: which record it is (key, the record's number within its key,
 * the user's tag), how surprising its tokens were, and the optional extras that were asked for.
 *
 * <p>A Flink POJO (public no-argument constructor, getters and setters), so Flink serializes it with its
 * POJO serializer. Arrays that were not asked for are null. {@link #toString()} is a one-line, exact
 * (round-trip) text form, handy for text sinks and for comparing runs.
 */
@PublicEvolving
public class RwkvResult {
    /** {@link #getStop()} when generation ended at a stop sequence. */
    public static final String STOP_SEQUENCE = "stop_sequence";
    /** {@link #getStop()} when generation ended at the token limit. */
    public static final String MAX_TOKENS = "max_tokens";

    private String key;
    private long seq;
    private String tag;
    private int tokens;
    private double meanBits;
    private float[] logProbs;
    private int[] topTokens;
    private float[] topLogProbs;
    private float[] logits;
    private int[] generated;
    private String stop;

    public RwkvResult() {}

    /** The record's key, as text ({@code String.valueOf} of the Flink key). */
    public String getKey() {
        return key;
    }

    public void setKey(String key) {
        this.key = key;
    }

    /** The record's number within its key: 0 for the key's first record (since it started or was reset). */
    public long getSeq() {
        return seq;
    }

    public void setSeq(long seq) {
        this.seq = seq;
    }

    /** What the configured tag function took from the record (null without one). */
    public String getTag() {
        return tag;
    }

    public void setTag(String tag) {
        this.tag = tag;
    }

    /** Tokens in the record. */
    public int getTokens() {
        return tokens;
    }

    public void setTokens(int tokens) {
        this.tokens = tokens;
    }

    /** Mean surprisal in bits per token, {@code -mean(log2 p(token | key's history))}; NaN for no tokens. */
    public double getMeanBits() {
        return meanBits;
    }

    public void setMeanBits(double meanBits) {
        this.meanBits = meanBits;
    }

    /** Natural-log probability of each token given the key's history (if asked for). */
    public float[] getLogProbs() {
        return logProbs;
    }

    public void setLogProbs(float[] logProbs) {
        this.logProbs = logProbs;
    }

    /** The k most likely next tokens after the record, most likely first (if asked for). */
    public int[] getTopTokens() {
        return topTokens;
    }

    public void setTopTokens(int[] topTokens) {
        this.topTokens = topTokens;
    }

    /** Natural-log probabilities of {@link #getTopTokens()}. */
    public float[] getTopLogProbs() {
        return topLogProbs;
    }

    public void setTopLogProbs(float[] topLogProbs) {
        this.topLogProbs = topLogProbs;
    }

    /** The next-token logits after the record (if asked for). */
    public float[] getLogits() {
        return logits;
    }

    public void setLogits(float[] logits) {
        this.logits = logits;
    }

    /** Generation only: the generated tokens, a stop sequence that ended them included; else null. */
    public int[] getGenerated() {
        return generated;
    }

    public void setGenerated(int[] generated) {
        this.generated = generated;
    }

    /** Generation only: why it ended, {@link #STOP_SEQUENCE} or {@link #MAX_TOKENS}; else null. */
    public String getStop() {
        return stop;
    }

    public void setStop(String stop) {
        this.stop = stop;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RwkvResult)) {
            return false;
        }
        RwkvResult r = (RwkvResult) o;
        return seq == r.seq && tokens == r.tokens && Double.compare(meanBits, r.meanBits) == 0
                && Objects.equals(key, r.key) && Objects.equals(tag, r.tag) && Arrays.equals(logProbs, r.logProbs)
                && Arrays.equals(topTokens, r.topTokens) && Arrays.equals(topLogProbs, r.topLogProbs)
                && Arrays.equals(logits, r.logits) && Arrays.equals(generated, r.generated)
                && Objects.equals(stop, r.stop);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, seq, tag, tokens, meanBits);
    }

    /**
     * {@code key seq tag tokens meanBits [lp=...] [top=...] [logits=...] [gen=... stop=...]}, space-separated,
     * exact.
     */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append(key).append(' ').append(seq).append(' ').append(tag).append(' ').append(tokens).append(' ')
                .append(meanBits);
        if (logProbs != null) {
            b.append(" lp=").append(Arrays.toString(logProbs).replace(" ", ""));
        }
        if (topTokens != null) {
            b.append(" top=").append(Arrays.toString(topTokens).replace(" ", ""))
                    .append(Arrays.toString(topLogProbs).replace(" ", ""));
        }
        if (logits != null) {
            b.append(" logits=").append(Arrays.toString(logits).replace(" ", ""));
        }
        if (generated != null) {
            b.append(" gen=").append(Arrays.toString(generated).replace(" ", "")).append(" stop=").append(stop);
        }
        return b.toString();
    }
}
