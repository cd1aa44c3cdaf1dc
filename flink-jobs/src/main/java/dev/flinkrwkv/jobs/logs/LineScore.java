package dev.flinkrwkv.jobs.logs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * score-logs' output for one line. A Flink POJO; {@link #toJson()} writes one JSON object per line:
 *
 * <pre>
 * {"key":"R02-M1-N0","source":"logs","partition":0,"offset":1041,
 *  "tokens":87,"mean_bits":1.92,"max_bits":11.4,"max_position":52,
 *  "baseline_mean":1.71,"baseline_std":0.12,"baseline_lines":240,
 *  "score":1.75,"flagged":false,"text":"- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 ..."}
 * </pre>
 *
 * <ul>
 *   <li>{@code key}: the line's key (its source, e.g. a host); {@code source}, {@code partition},
 *       {@code offset}: where the line was read (Kafka topic, partition, offset; or the file, -1 and the
 *       line number from 1).</li>
 *   <li>{@code tokens}: tokens scored; {@code mean_bits}: mean surprisal, bits per token, given the key's
 *       history; {@code max_bits}, {@code max_position}: the most surprising token and its index in the
 *       line (from 0; absent when the scorer has no per-token detail).</li>
 *   <li>{@code baseline_mean}, {@code baseline_std}, {@code baseline_lines}: the key's running baseline
 *       before this line (see {@link Baseline}).</li>
 *   <li>{@code score}: the standardized score (see {@link AnomalyDetector}); {@code flagged}: above the
 *       threshold; {@code text}: the line, or its first characters (score-logs' {@code --output-text-chars};
 *       absent with 0).</li>
 * </ul>
 */
public class LineScore {
    private static final ObjectMapper JSON = new ObjectMapper();

    public String key;
    public String source;
    public int partition;
    public long offset;
    public int tokens;
    public double meanBits;
    public double maxBits;
    public int maxPosition;
    public double baselineMean;
    public double baselineStd;
    public long baselineLines;
    public double score;
    public boolean flagged;
    /** The line's text, or its first {@code --output-text-chars} characters; null (not written) for none. */
    public String text;

    public LineScore() {}

    public LineScore(String key, String source, int partition, long offset, int tokens, double meanBits,
                     double maxBits, int maxPosition, double baselineMean, double baselineStd, long baselineLines,
                     double score, boolean flagged) {
        this.key = key;
        this.source = source;
        this.partition = partition;
        this.offset = offset;
        this.tokens = tokens;
        this.meanBits = meanBits;
        this.maxBits = maxBits;
        this.maxPosition = maxPosition;
        this.baselineMean = baselineMean;
        this.baselineStd = baselineStd;
        this.baselineLines = baselineLines;
        this.score = score;
        this.flagged = flagged;
    }

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("key", key);
        o.put("source", source);
        o.put("partition", partition);
        o.put("offset", offset);
        o.put("tokens", tokens);
        o.put("mean_bits", round(meanBits));
        if (!Double.isNaN(maxBits)) {
            o.put("max_bits", round(maxBits));
            o.put("max_position", maxPosition);
        }
        o.put("baseline_mean", round(baselineMean));
        o.put("baseline_std", round(baselineStd));
        o.put("baseline_lines", baselineLines);
        o.put("score", round(score));
        o.put("flagged", flagged);
        if (text != null) {
            o.put("text", text);
        }
        return o.toString();
    }

    public byte[] toJsonBytes() {
        return toJson().getBytes(StandardCharsets.UTF_8);
    }

    /** Six significant decimals are plenty for a score and keep the output readable and stable. */
    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LineScore s && toJson().equals(s.toJson());
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, source, partition, offset);
    }

    @Override
    public String toString() {
        return toJson();
    }
}
