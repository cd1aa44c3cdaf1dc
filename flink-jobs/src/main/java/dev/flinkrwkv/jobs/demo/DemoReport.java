package dev.flinkrwkv.jobs.demo;

import dev.flinkrwkv.jobs.demo.SyntheticLogs.Label;
import dev.flinkrwkv.jobs.logs.EvalReportHtml;
import dev.flinkrwkv.jobs.logs.KindMetrics;
import dev.flinkrwkv.jobs.logs.LabelledLog;
import dev.flinkrwkv.jobs.logs.LineScore;
import dev.flinkrwkv.jobs.logs.LogEvaluation;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The demo's verdict: how well score-logs' output ranks the generator's labelled anomalies. AUROC and
 * average precision (the same {@link KindMetrics} as eval-logs) for the raw mean surprisal and for the
 * standardized score, over all lines and per anomaly kind (that kind's lines against the normal lines),
 * printed as a table; and eval-logs' HTML page ({@link EvalReportHtml}) with the scores along the stream.
 * Lines whose score never arrived are left out of the metrics (and counted).
 */
final class DemoReport {
    private final List<KindMetrics.Row> rows;
    private final LogEvaluation.Result result;
    private final LabelledLog log;
    private final int missing;
    private final int flagged;
    private final int flaggedAnomalies;
    private final double normalBitsPerToken;
    private final double anomalousBitsPerToken;

    /**
     * @param labels each line's truth
     * @param scores each line's score (null where none arrived)
     * @param log the same lines as a labelled log (for the plot)
     */
    DemoReport(List<Label> labels, LineScore[] scores, LabelledLog log, double seconds) {
        this.log = log;
        int miss = 0;
        int fl = 0;
        int flA = 0;
        double[] bits = new double[2];   // [normal, anomalous], each line weighted by its tokens
        long[] tokens = new long[2];
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] == null) {
                miss++;
                continue;
            }
            int c = labels.get(i).anomalous() ? 1 : 0;
            bits[c] += scores[i].meanBits * scores[i].tokens;
            tokens[c] += scores[i].tokens;
            if (scores[i].flagged) {
                fl++;
                flA += c;
            }
        }
        normalBitsPerToken = tokens[0] == 0 ? Double.NaN : bits[0] / tokens[0];
        anomalousBitsPerToken = tokens[1] == 0 ? Double.NaN : bits[1] / tokens[1];
        missing = miss;
        flagged = fl;
        flaggedAnomalies = flA;
        List<String> kinds = new ArrayList<>();
        for (Label k : Label.values()) {
            if (k.anomalous()) {
                kinds.add(k.category());
            }
        }
        rows = KindMetrics.rows(log, scores, 0, kinds);
        LineScore[] plotted = new LineScore[scores.length];
        for (int i = 0; i < scores.length; i++) {
            // A line with no score is drawn at the previous line's level, unflagged, so the curve stays whole.
            plotted[i] = scores[i] != null ? scores[i] : i > 0 ? unflagged(plotted[i - 1]) : new LineScore();
        }
        KindMetrics.Row all = rows.get(0);
        result = new LogEvaluation.Result("rwkv (score-logs)", plotted, all.aurocMeanBits(), all.apMeanBits(),
                all.aurocScore(), all.apScore(), seconds, normalBitsPerToken, anomalousBitsPerToken);
    }

    private static LineScore unflagged(LineScore s) {
        return new LineScore(s.key, s.source, s.partition, s.offset, s.tokens, s.meanBits, s.maxBits, s.maxPosition,
                s.baselineMean, s.baselineStd, s.baselineLines, s.score, false);
    }

    List<KindMetrics.Row> rows() {
        return rows;
    }

    int missing() {
        return missing;
    }

    int flagged() {
        return flagged;
    }

    void print(PrintStream out) {
        out.printf(Locale.ROOT, "%d lines scored (%d without a score), %d flagged, %d of them labelled anomalies%n",
                log.size() - missing, missing, flagged, flaggedAnomalies);
        out.printf(Locale.ROOT, "bits per token: %.3f over normal lines, %.3f over anomalous lines%n",
                normalBitsPerToken, anomalousBitsPerToken);
        out.printf(Locale.ROOT, "%-14s %9s %7s %18s %15s %14s %11s%n", "anomalies", "anomalous", "normal",
                "AUROC (mean bits)", "AP (mean bits)", "AUROC (score)", "AP (score)");
        for (KindMetrics.Row r : rows) {
            out.printf(Locale.ROOT, "%-14s %9d %7d %18.4f %15.4f %14.4f %11.4f%n", r.kind(), r.anomalies(), r.normal(),
                    r.aurocMeanBits(), r.apMeanBits(), r.aurocScore(), r.apScore());
        }
    }

    void writeHtml(Path file) throws IOException {
        EvalReportHtml.write(file, "flink-rwkv demo: score-logs on a live synthetic log stream", log, List.of(result), 0,
                List.of(rows));
    }
}
