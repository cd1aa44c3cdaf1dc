package dev.flinkrwkv.jobs.logs;

/**
 * How a line's per-token surprisals become the one number its anomaly score is made of. The mean over the
 * whole line is what score-logs streams; the others look where anomalies show: the message after the
 * varying prefix ({@link MessageBody}), its most surprising token (one wrong word in a routine line), or its
 * first tokens (the kind of line that comes next, given the key's history: a step out of order is surprising
 * from its first words on, however ordinary the rest), or both at once ({@link #BODY_AND_HEAD}).
 */
public enum LineStatistic {
    MEAN("mean"), MAX("max"), BODY_MEAN("body-mean"), BODY_MAX("body-max"), BODY_HEAD("body-head"),
    /**
     * The message's most surprising token plus its head's total surprisal, in bits: a line departs from its
     * key's history in one word of what it says (an odd value) or in which kind of line it is (a step out of
     * order, whose first tokens are surprising together though none need be alone), and one number sees both.
     */
    BODY_AND_HEAD("body-and-head");

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
        return this != MEAN && this != MAX;
    }

    public static LineStatistic parse(String s) {
        for (LineStatistic v : values()) {
            if (v.label.equals(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown line statistic '" + s + "' (" + labels() + ")");
    }

    /** The labels, as the command lines take them: {@code mean|max|...}. */
    public static String labels() {
        StringBuilder s = new StringBuilder();
        for (LineStatistic v : values()) {
            s.append(s.length() == 0 ? "" : "|").append(v.label);
        }
        return s.toString();
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
        if (this == BODY_AND_HEAD) {
            LineSurprisal head = BODY_HEAD.of(logProbs, bodyStart);
            double value = span.tokens() == 0 ? 0 : span.maxBits() + head.meanBits() * head.tokens();
            return new LineSurprisal(span.tokens(), value, span.maxBits(),
                    span.maxPosition() < 0 ? -1 : from + span.maxPosition());
        }
        if (this == MAX || this == BODY_MAX) {
            return new LineSurprisal(span.tokens(), span.tokens() == 0 ? 0 : span.maxBits(), span.maxBits(),
                    span.maxPosition() < 0 ? -1 : from + span.maxPosition());
        }
        return new LineSurprisal(span.tokens(), span.meanBits(), span.maxBits(),
                span.maxPosition() < 0 ? -1 : from + span.maxPosition());
    }
}
