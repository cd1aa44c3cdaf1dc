package dev.flinkrwkv.jobs.demo;

import dev.flinkrwkv.jobs.demo.SyntheticLogs.Label;
import dev.flinkrwkv.jobs.logs.EvalReportHtml;
import dev.flinkrwkv.jobs.logs.KindMetrics;
import dev.flinkrwkv.jobs.logs.LabelledLog;
import dev.flinkrwkv.jobs.logs.LineScore;
import dev.flinkrwkv.jobs.logs.LogEvaluation;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
    /** The level of the AUROC intervals, and the bootstrap's replicates and seed (fixed: the same figures every run). */
    static final double LEVEL = 0.95;
    private static final int REPLICATES = 1000;
    private static final long BOOTSTRAP_SEED = 1;

    private final List<KindMetrics.Row> rows;
    /** Per row: the AUROC interval of the mean bits, then of the score ({@link KindMetrics#aurocIntervals}). */
    private final List<double[][]> intervals = new ArrayList<>();
    private final String statistic;
    private final boolean standardized;
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
     * @param statistic the line statistic the scores were made of (its label), for the column heads
     * @param standardized whether the headline ranks by the standardized score (else by the statistic's bits)
     */
    DemoReport(List<Label> labels, LineScore[] scores, LabelledLog log, double seconds, String statistic,
               boolean standardized) {
        this.log = log;
        this.statistic = statistic;
        this.standardized = standardized;
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
        for (KindMetrics.Row r : rows) {
            intervals.add(KindMetrics.aurocIntervals(log, scores, 0, KindMetrics.ALL.equals(r.kind()) ? null : r.kind(),
                    LEVEL, REPLICATES, BOOTSTRAP_SEED));
        }
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

    /** The AUROC intervals of row {@code r}: {@code {{low, high} of the bits}, {low, high} of the score}}. */
    double[][] intervals(int r) {
        return intervals.get(r);
    }

    void print(PrintStream out) {
        out.printf(Locale.ROOT, "%d lines scored (%d without a score), %d flagged, %d of them labelled anomalies%n",
                log.size() - missing, missing, flagged, flaggedAnomalies);
        out.printf(Locale.ROOT, "line statistic %s: %.3f bits over normal lines, %.3f over anomalous lines (lines weighted"
                + " by their tokens)%n", statistic, normalBitsPerToken, anomalousBitsPerToken);
        out.printf(Locale.ROOT, "%-14s %9s %7s %-26s %8s %-26s %8s%n", "anomalies", "anomalous", "normal",
                "AUROC (" + statistic + " bits)", "AP", "AUROC (score)", "AP");
        for (int i = 0; i < rows.size(); i++) {
            KindMetrics.Row r = rows.get(i);
            double[][] ci = intervals.get(i);
            out.printf(Locale.ROOT, "%-14s %9d %7d %-26s %8.4f %-26s %8.4f%n", r.kind(), r.anomalies(), r.normal(),
                    withInterval(r.aurocMeanBits(), ci[0]), r.apMeanBits(), withInterval(r.aurocScore(), ci[1]), r.apScore());
        }
        out.printf(Locale.ROOT, "(AUROC with its %.0f%% bootstrap interval: anomalies and normal lines resampled %d times)%n",
                LEVEL * 100, REPLICATES);
        StringBuilder headline = new StringBuilder(String.format(Locale.ROOT, "AUROC by the %s:",
                standardized ? "standardized score" : statistic + " bits"));
        for (int i = 0; i < rows.size(); i++) {
            KindMetrics.Row r = rows.get(i);
            headline.append(String.format(Locale.ROOT, "%s %s %s", i == 0 ? "" : ",", r.kind(),
                    withInterval(standardized ? r.aurocScore() : r.aurocMeanBits(), intervals.get(i)[standardized ? 1 : 0])));
        }
        out.println(headline);
    }

    private static String withInterval(double auroc, double[] interval) {
        return String.format(Locale.ROOT, "%.4f [%.3f, %.3f]", auroc, interval[0], interval[1]);
    }

    void writeHtml(Path file) throws IOException {
        String page = EvalReportHtml.render("flink-rwkv demo: score-logs on a live synthetic log stream", log, List.of(result), 0,
                List.of(rows));
        int at = page.indexOf("</h1>\n") + "</h1>\n".length();
        Files.writeString(file, page.substring(0, at) + aurocChart() + page.substring(at), StandardCharsets.UTF_8);
    }

    /**
     * A bar per anomaly kind (and over all anomalies): its AUROC for the line statistic and for the standardized
     * score, each with a whisker over its interval, on an axis from 0.5 (chance) to 1.
     */
    String aurocChart() {
        int left = 130;
        int width = 520;
        int barH = 12;
        int rowH = 2 * barH + 14;
        int top = 24;
        int height = top + rows.size() * rowH + 34;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<h2>AUROC per anomaly kind</h2>\n<p>Each kind's lines ranked against the"
                + " normal lines, with the %.0f%% bootstrap interval; 0.5 is chance.</p>\n", LEVEL * 100));
        s.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"AUROC per anomaly kind\">%n",
                left + width + 120, height));
        for (int t = 0; t <= 5; t++) {
            double v = 0.5 + t * 0.1;
            double x = left + (v - 0.5) / 0.5 * width;
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%.1f</text>%n",
                    x, top - 6, x, height - 30, x, height - 16, v));
        }
        String[] colors = {"#1f5fa8", "#ff8c00"};
        String[] names = {statistic + " bits", "score"};
        for (int i = 0; i < rows.size(); i++) {
            KindMetrics.Row r = rows.get(i);
            int y = top + i * rowH;
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">%s (%d)</text>%n",
                    left - 8, y + barH + 4, r.kind(), r.anomalies()));
            double[] values = {r.aurocMeanBits(), r.aurocScore()};
            for (int c = 0; c < 2; c++) {
                if (Double.isNaN(values[c])) {
                    continue;
                }
                int by = y + c * barH;
                double[] ci = intervals.get(i)[c];
                s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\""
                                + " opacity=\"0.75\"><title>%s: AUROC %.4f [%.3f, %.3f]</title></rect>%n", left, by + 1,
                        xOf(values[c], width), barH - 2, colors[c], names[c], values[c], ci[0], ci[1]));
                s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\"/>"
                                + "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.3f</text>%n", left + xOf(ci[0], width),
                        by + barH / 2, left + xOf(ci[1], width), by + barH / 2, left + width + 6, by + barH - 2, values[c]));
            }
        }
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                        + "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text><rect x=\"%d\" y=\"%d\" width=\"10\""
                        + " height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"11\">standardized score</text>%n",
                left, height - 10, colors[0], left + 14, height - 1, names[0], left + 200, height - 10, colors[1], left + 214, height - 1));
        return s.append("</svg>\n").toString();
    }

    /** The bar's length for an AUROC on the axis from 0.5 to 1 (below chance: no bar). */
    private static double xOf(double auroc, int width) {
        return Math.max(0, Math.min(1, (auroc - 0.5) / 0.5)) * width;
    }
}
