package dev.flinkrwkv.jobs.logs;

/**
 * One scored line on its way from the RWKV operator to {@link BaselineFunction}: the line's key and origin
 * (as in the input), the start of its text, and the log-probability, in nats, of each of its tokens given the key's history. A
 * Flink POJO. The score-logs job maps the operator's output record to this in one step.
 */
public class LineTokens {
    public String key;
    public String source;
    public int partition;
    public long offset;
    public float[] logProbs;
    /** The first characters of the line, for the output; null for none. */
    public String text;
    /** The index of the message's first token ({@link MessageBody}), for the statistics over the message. */
    public int bodyStart;

    public LineTokens() {}

    public LineTokens(String key, String source, int partition, long offset, float[] logProbs) {
        this.key = key;
        this.source = source;
        this.partition = partition;
        this.offset = offset;
        this.logProbs = logProbs;
    }
}
