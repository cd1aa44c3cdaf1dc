package dev.flinkrwkv.jobs.logs;

/**
 * How a line's per-token surprisals become the one number its anomaly score is made of. The mean over the
 * whole line is what score-logs streams; the others look where anomalies show: the message after the
 * varying prefix ({@link MessageBody}), its most surprising token (one wrong word in a routine line), or its
 * first tokens (the kind of line that comes next, given the key's history: a step out of order is surprising
 * from its first words on, however ordinary the rest).
 */
public enum LineStatistic {
    MEAN("mean"), MAX("max"), BODY_MEAN("body-mean"), BODY_MAX("body-max"), BODY_HEAD("body-head");

    /** The tokens {@link #BODY_HEAD} averages over. */
    public static final int HEAD_TOKENS = 8;

    private final String label;

    LineStatistic(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Whether it looks at the message only, and so needs to know where the message starts. */
    public boolean overTheMessage() {
        return this == BODY_MEAN || this == BODY_MAX || this == BODY_HEAD;
    }

    public static LineStatistic parse(String s) {
        for (LineStatistic v : values()) {
            if (v.label.equals(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown line statistic '" + s + "' (mean, max, body-mean, body-max, body-head)");
    }

    /**
     * The statistic of one line, in bits, as a {@link LineSurprisal} whose {@code meanBits} carries it.
     *
     * @param logProbs the line's per-token log-probabilities in nats
     * @param bodyStart the index of the message's first token
     */
    public LineSurprisal of(float[] logProbs, int bodyStart) {
        int n = logProbs.length;
        int from = overTheMessage() && bodyStart < n ? bodyStart : 0;
        int to = this == BODY_HEAD ? Math.min(n, from + HEAD_TOKENS) : n;
        LineSurprisal span = LineSurprisal.fromLogProbs(logProbs, from, to - from);
        if (this == MAX || this == BODY_MAX) {
            return new LineSurprisal(span.tokens(), span.tokens() == 0 ? 0 : span.maxBits(), span.maxBits(),
                    span.maxPosition() < 0 ? -1 : from + span.maxPosition());
        }
        return new LineSurprisal(span.tokens(), span.meanBits(), span.maxBits(),
                span.maxPosition() < 0 ? -1 : from + span.maxPosition());
    }
}
