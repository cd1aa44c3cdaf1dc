package dev.flinkrwkv.jobs.logs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * eval-logs' picture: one self-contained HTML page (no scripts, no external files) with the metrics table
 * and, per scorer, an inline SVG plot of each line's mean surprisal along the file. Labelled anomalies are
 * red ticks under the curve, flagged lines orange dots on it, and a dashed line marks where the evaluated
 * part begins.
 */
public final class EvalReportHtml {
    private static final int W = 1100;
    private static final int H = 240;
    private static final int LEFT = 50;
    private static final int RIGHT = 10;
    private static final int TOP = 10;
    private static final int BOTTOM = 40;

    private EvalReportHtml() {}

    public static void write(Path out, String title, LabelledLog log, List<LogEvaluation.Result> results, int evalFrom)
            throws IOException {
        Files.writeString(out, render(title, log, results, evalFrom), StandardCharsets.UTF_8);
    }

    public static String render(String title, LabelledLog log, List<LogEvaluation.Result> results, int evalFrom) {
        StringBuilder s = new StringBuilder(1 << 16);
        s.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title>\n")
                .append("<style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse}"
                        + "td,th{border:1px solid #bbb;padding:4px 10px;text-align:right}"
                        + "th:first-child,td:first-child{text-align:left}.legend span{margin-right:18px}</style>\n")
                .append("</head><body>\n<h1>").append(esc(title)).append("</h1>\n");
        s.append(String.format(Locale.ROOT, "<p>%d lines, %d labelled anomalies; lines %d&ndash;%d evaluated "
                        + "(%d anomalies), the lines before them only warm the scorers up.</p>\n",
                log.size(), log.anomalies(), evalFrom + 1, log.size(), countAnomalies(log, evalFrom)));
        s.append("<table><tr><th>scorer</th><th>AUROC (mean bits)</th><th>AP (mean bits)</th>"
                + "<th>AUROC (score)</th><th>AP (score)</th><th>flagged</th><th>seconds</th></tr>\n");
        for (LogEvaluation.Result r : results) {
            s.append(String.format(Locale.ROOT,
                    "<tr><td>%s</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%d</td><td>%.1f</td></tr>\n",
                    esc(r.scorer()), r.aurocMeanBits(), r.apMeanBits(), r.aurocScore(), r.apScore(), r.flagged(evalFrom), r.seconds()));
        }
        s.append("</table>\n<p class=\"legend\"><span style=\"color:#1f5fa8\">&#9473; mean surprisal (bits/token)</span>"
                + "<span style=\"color:#d62728\">| labelled anomaly</span><span style=\"color:#ff8c00\">&#9679; flagged</span>"
                + "<span>&#8942; start of the evaluated part</span></p>\n");
        for (LogEvaluation.Result r : results) {
            s.append("<h2>").append(esc(r.scorer())).append("</h2>\n");
            plot(s, log, r, evalFrom);
        }
        s.append("</body></html>\n");
        return s.toString();
    }

    private static void plot(StringBuilder s, LabelledLog log, LogEvaluation.Result r, int evalFrom) {
        LineScore[] sc = r.scores();
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (LineScore l : sc) {
            lo = Math.min(lo, l.meanBits);
            hi = Math.max(hi, l.meanBits);
        }
        if (!(hi > lo)) {
            hi = lo + 1;
        }
        int n = sc.length;
        double plotW = W - LEFT - RIGHT;
        double plotH = H - TOP - BOTTOM;
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H).append("\">\n");
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n",
                LEFT, TOP, plotW, plotH));
        // Labelled anomalies: ticks along the bottom.
        s.append("<g stroke=\"#d62728\" stroke-width=\"1\">");
        for (int i = 0; i < n; i++) {
            if (log.anomalous(i)) {
                double x = x(i, n, plotW);
                s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>line %d: %s</title></line>",
                        x, TOP + plotH, x, TOP + plotH - 14, i + 1, esc(log.category(i))));
            }
        }
        s.append("</g>\n");
        // The evaluated part starts here.
        double xe = x(evalFrom, n, plotW);
        s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"4 4\"/>\n",
                xe, TOP, xe, TOP + plotH));
        // The curve.
        s.append("<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1\" points=\"");
        for (int i = 0; i < n; i++) {
            s.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(i, n, plotW), y(sc[i].meanBits, lo, hi, plotH)));
        }
        s.append("\"/>\n<g fill=\"#ff8c00\">");
        for (int i = 0; i < n; i++) {
            if (sc[i].flagged) {
                s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>line %d: score %.2f%s</title></circle>",
                        x(i, n, plotW), y(sc[i].meanBits, lo, hi, plotH), i + 1, sc[i].score,
                        log.anomalous(i) ? " (" + esc(log.category(i)) + ")" : " (normal)"));
            }
        }
        s.append("</g>\n");
        // Axes labels.
        s.append(String.format(Locale.ROOT, "<g font-size=\"11\" fill=\"#333\"><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.2f</text>"
                        + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>"
                        + "<text x=\"%d\" y=\"%d\">line 1</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">line %d</text>"
                        + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">bits per token, by line</text></g>\n",
                LEFT - 4, TOP + 10, hi, LEFT - 4, TOP + plotH, lo, LEFT, H - BOTTOM + 16, W - RIGHT, H - BOTTOM + 16, n,
                LEFT + plotW / 2, H - 6));
        s.append("</svg>\n");
    }

    private static double x(int i, int n, double plotW) {
        return LEFT + (n <= 1 ? 0 : plotW * i / (n - 1));
    }

    private static double y(double v, double lo, double hi, double plotH) {
        return TOP + plotH - (v - lo) / (hi - lo) * plotH;
    }

    private static int countAnomalies(LabelledLog log, int from) {
        int c = 0;
        for (int i = from; i < log.size(); i++) {
            if (log.anomalous(i)) {
                c++;
            }
        }
        return c;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
