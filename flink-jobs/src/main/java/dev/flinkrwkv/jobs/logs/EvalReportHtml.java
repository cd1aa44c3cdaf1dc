package dev.flinkrwkv.jobs.logs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * eval-logs' and the demo's picture: one self-contained HTML page (no scripts, no external files) with
 * <ul>
 *   <li>the metrics per scorer (for a labelled log: AUROC and average precision, overall and per anomaly
 *       kind; without labels: flagged lines and bits per byte only);</li>
 *   <li>per scorer, an SVG plot of each line's mean surprisal along the file, with labelled axes and ticks:
 *       labelled anomalies as red ticks along the bottom, flagged lines as orange dots, a dashed line where
 *       the evaluated part begins (if the first lines only warm up); hovering over the plot shows the line's
 *       number, score, surprisal and text;</li>
 *   <li>per scorer, the flagged lines of the evaluated part with their score and text.</li>
 * </ul>
 */
public final class EvalReportHtml {
    private static final int W = 1100;
    private static final int H = 280;
    private static final int LEFT = 64;
    private static final int RIGHT = 16;
    private static final int TOP = 12;
    private static final int BOTTOM = 48;
    /** Characters of a line shown in a tooltip or the flagged list. */
    static final int TEXT_CHARS = 200;
    /** Flagged lines listed per scorer, at most. */
    static final int MAX_FLAGGED_LISTED = 300;

    private EvalReportHtml() {}

    /** {@code kinds}: each result's per-kind rows ({@link KindMetrics}), or null to compute them over the evaluated part. */
    public static void write(Path out, String title, LabelledLog log, List<LogEvaluation.Result> results, int evalFrom,
                             List<List<KindMetrics.Row>> kinds) throws IOException {
        Files.writeString(out, render(title, log, results, evalFrom, kinds), StandardCharsets.UTF_8);
    }

    public static String render(String title, LabelledLog log, List<LogEvaluation.Result> results, int evalFrom,
                                List<List<KindMetrics.Row>> kinds) {
        boolean labelled = log.labelled();
        StringBuilder s = new StringBuilder(1 << 16);
        s.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title>\n")
                .append("<style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse;margin:8px 0 16px}"
                        + "td,th{border:1px solid #bbb;padding:3px 9px;text-align:right}"
                        + "th:first-child,td:first-child{text-align:left}th.text{text-align:left}td.text{text-align:left;font-family:monospace;"
                        + "white-space:pre-wrap;word-break:break-all}.legend span{margin-right:18px}"
                        + "svg text{font-family:sans-serif}</style>\n")
                .append("</head><body>\n<h1>").append(esc(title)).append("</h1>\n");
        s.append("<p>").append(description(log, evalFrom)).append("</p>\n");
        metricsTable(s, log, results, evalFrom);
        if (labelled) {
            s.append("<h2>AUROC and average precision per anomaly kind</h2>\n<p>Each row ranks the lines of one kind"
                    + " against the normal lines").append(evalFrom > 0 ? " of the evaluated part" : "").append(".</p>\n");
            for (int r = 0; r < results.size(); r++) {
                List<KindMetrics.Row> rows = kinds != null ? kinds.get(r)
                        : KindMetrics.rows(log, results.get(r).scores(), evalFrom, null);
                kindTable(s, results.get(r).scorer(), rows);
            }
        }
        s.append("<p class=\"legend\"><span style=\"color:#1f5fa8\">&#9473; mean surprisal of the line (bits per token)</span>");
        if (labelled) {
            s.append("<span style=\"color:#d62728\">| labelled anomaly</span>");
        }
        s.append("<span style=\"color:#ff8c00\">&#9679; flagged (score above the threshold)</span>");
        if (evalFrom > 0) {
            s.append("<span>&#8942; start of the evaluated part</span>");
        }
        s.append("<span>(hover for a line's text)</span></p>\n");
        for (LogEvaluation.Result r : results) {
            s.append("<h2>").append(esc(r.scorer())).append("</h2>\n");
            plot(s, log, r, evalFrom);
            flaggedList(s, log, r, evalFrom);
        }
        s.append("</body></html>\n");
        return s.toString();
    }

    private static String description(LabelledLog log, int evalFrom) {
        StringBuilder d = new StringBuilder();
        d.append(String.format(Locale.ROOT, "%,d lines", log.size()));
        if (!log.labelled()) {
            d.append(", without labels: scores only");
        } else {
            d.append(String.format(Locale.ROOT, ", %,d labelled anomalies", log.anomalies()));
        }
        if (evalFrom > 0) {
            d.append(String.format(Locale.ROOT, "; lines %,d&ndash;%,d are evaluated%s, the %,d lines before them only warm"
                            + " the scorers and baselines up", evalFrom + 1, log.size(),
                    log.labelled() ? String.format(Locale.ROOT, " (%,d anomalies)", countAnomalies(log, evalFrom)) : "", evalFrom));
        }
        return d.append('.').toString();
    }

    private static void metricsTable(StringBuilder s, LabelledLog log, List<LogEvaluation.Result> results, int evalFrom) {
        if (log.labelled()) {
            s.append("<table><tr><th>scorer</th><th>AUROC (mean bits)</th><th>AP (mean bits)</th><th>AUROC (score)</th>"
                    + "<th>AP (score)</th><th>flagged</th><th>bits/byte normal</th><th>bits/byte anomalous</th><th>seconds</th></tr>\n");
            for (LogEvaluation.Result r : results) {
                s.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td>"
                                + "<td>%s</td><td>%s</td><td>%.1f</td></tr>\n", esc(r.scorer()), f4(r.aurocMeanBits()),
                        f4(r.apMeanBits()), f4(r.aurocScore()), f4(r.apScore()), r.flagged(evalFrom),
                        f3(r.normalBitsPerToken()), f3(r.anomalousBitsPerToken()), r.seconds()));
            }
        } else {
            s.append("<table><tr><th>scorer</th><th>flagged</th><th>bits/byte</th><th>seconds</th></tr>\n");
            for (LogEvaluation.Result r : results) {
                s.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%s</td><td>%.1f</td></tr>\n",
                        esc(r.scorer()), r.flagged(evalFrom), f3(r.normalBitsPerToken()), r.seconds()));
            }
        }
        s.append("</table>\n");
    }

    private static void kindTable(StringBuilder s, String scorer, List<KindMetrics.Row> rows) {
        s.append("<table><tr><th>").append(esc(scorer)).append(": anomalies</th><th>anomalous lines</th><th>normal lines</th>"
                + "<th>AUROC (mean bits)</th><th>AP (mean bits)</th><th>AUROC (score)</th><th>AP (score)</th></tr>\n");
        for (KindMetrics.Row r : rows) {
            s.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td>"
                            + "<td>%s</td></tr>\n", esc(r.kind()), r.anomalies(), r.normal(), f4(r.aurocMeanBits()),
                    f4(r.apMeanBits()), f4(r.aurocScore()), f4(r.apScore())));
        }
        s.append("</table>\n");
    }

    private static void plot(StringBuilder s, LabelledLog log, LogEvaluation.Result r, int evalFrom) {
        LineScore[] sc = r.scores();
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (LineScore l : sc) {
            lo = Math.min(lo, l.meanBits);
            hi = Math.max(hi, l.meanBits);
        }
        double[] yTicks = ticks(Math.min(lo, 0), hi, 6);
        lo = yTicks[0];
        hi = yTicks[yTicks.length - 1];
        int n = sc.length;
        double plotW = W - LEFT - RIGHT;
        double plotH = H - TOP - BOTTOM;
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H).append("\">\n");
        // Grid and y axis: ticks at round values, labelled, with the axis title turned up the left side.
        s.append("<g font-size=\"11\" fill=\"#333\">");
        for (double t : yTicks) {
            double y = y(t, lo, hi, plotH);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
                            + "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#666\"/>"
                            + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                    LEFT, y, LEFT + plotW, y, LEFT - 5, y, LEFT, y, LEFT - 8, y + 4, num(t)));
        }
        // x axis: line numbers at round values.
        for (double t : ticks(1, Math.max(n, 2), 10)) {
            if (t < 1 || t > n) {
                continue;
            }
            double x = x((int) t - 1, n, plotW);
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\"/>"
                            + "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                    x, TOP + plotH, x, TOP + plotH + 5, x, TOP + plotH + 17, num(t)));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">line of the log</text>"
                        + "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">"
                        + "mean surprisal (bits/token)</text></g>\n", LEFT + plotW / 2, H - 8, TOP + plotH / 2));
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n",
                LEFT, TOP, plotW, plotH));
        // Labelled anomalies: ticks along the bottom.
        if (log.labelled()) {
            s.append("<g stroke=\"#d62728\" stroke-width=\"1\">");
            for (int i = 0; i < n; i++) {
                if (log.anomalous(i)) {
                    double x = x(i, n, plotW);
                    s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>%s</title></line>",
                            x, TOP + plotH, x, TOP + plotH - 14, tooltip(log, sc[i], i)));
                }
            }
            s.append("</g>\n");
        }
        if (evalFrom > 0) {
            double xe = x(evalFrom, n, plotW);
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"4 4\"/>"
                            + "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#444\">evaluated &#8594;</text>\n",
                    xe, TOP, xe, TOP + plotH, xe + 4, TOP + 12));
        }
        s.append("<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1\" points=\"");
        for (int i = 0; i < n; i++) {
            s.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(i, n, plotW), y(sc[i].meanBits, lo, hi, plotH)));
        }
        s.append("\"/>\n");
        // One transparent column per line to hover over: the tooltip names the line and shows its text.
        double colW = Math.max(plotW / Math.max(n, 1), 0.5);
        s.append("<g fill=\"transparent\">");
        for (int i = 0; i < n; i++) {
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.2f\" height=\"%.1f\"><title>%s</title></rect>",
                    x(i, n, plotW) - colW / 2, TOP, colW, plotH, tooltip(log, sc[i], i)));
        }
        s.append("</g>\n<g fill=\"#ff8c00\">");
        for (int i = 0; i < n; i++) {
            if (sc[i].flagged) {
                s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>%s</title></circle>",
                        x(i, n, plotW), y(sc[i].meanBits, lo, hi, plotH), tooltip(log, sc[i], i)));
            }
        }
        s.append("</g>\n</svg>\n");
    }

    private static void flaggedList(StringBuilder s, LabelledLog log, LogEvaluation.Result r, int evalFrom) {
        LineScore[] sc = r.scores();
        List<Integer> flagged = new ArrayList<>();
        for (int i = evalFrom; i < sc.length; i++) {
            if (sc[i].flagged) {
                flagged.add(i);
            }
        }
        s.append(String.format(Locale.ROOT, "<h3>%s: %,d flagged lines%s</h3>\n", esc(r.scorer()), flagged.size(),
                flagged.size() > MAX_FLAGGED_LISTED ? String.format(Locale.ROOT, " (the first %d listed)", MAX_FLAGGED_LISTED) : ""));
        if (flagged.isEmpty()) {
            return;
        }
        s.append("<table><tr><th>line</th><th>score</th><th>bits/token</th>").append(log.labelled() ? "<th>label</th>" : "")
                .append("<th class=\"text\">text</th></tr>\n");
        for (int i : flagged.subList(0, Math.min(flagged.size(), MAX_FLAGGED_LISTED))) {
            s.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.2f</td><td>%.2f</td>", i + 1, sc[i].score, sc[i].meanBits));
            if (log.labelled()) {
                s.append("<td>").append(log.anomalous(i) ? esc(log.category(i)) : "normal").append("</td>");
            }
            s.append("<td class=\"text\">").append(esc(text(log, i))).append("</td></tr>\n");
        }
        s.append("</table>\n");
    }

    private static String tooltip(LabelledLog log, LineScore s, int i) {
        String label = !log.labelled() ? "" : log.anomalous(i) ? " [" + log.category(i) + "]" : " [normal]";
        return esc(String.format(Locale.ROOT, "line %d%s: %.2f bits/token, score %.2f%s%n%s", i + 1, label, s.meanBits,
                s.score, s.flagged ? " (flagged)" : "", text(log, i)));
    }

    private static String text(LabelledLog log, int i) {
        String t = new String(log.text(i), StandardCharsets.UTF_8);
        return t.length() > TEXT_CHARS ? LineTag.prefix(t, TEXT_CHARS) + "…" : t;
    }

    /**
     * Round tick values covering [lo, hi]: about {@code count} of them, spaced 1, 2 or 5 times a power of
     * ten, the first at or below lo and the last at or above hi.
     */
    static double[] ticks(double lo, double hi, int count) {
        if (!(hi > lo)) {
            hi = lo + 1;
        }
        double raw = (hi - lo) / Math.max(count - 1, 1);
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag : raw / mag <= 5 ? 5 * mag : 10 * mag;
        double first = Math.floor(lo / step) * step;
        int k = (int) Math.ceil((hi - first) / step - 1e-9);
        double[] t = new double[k + 1];
        for (int i = 0; i <= k; i++) {
            t[i] = first + i * step;
        }
        return t;
    }

    private static String num(double v) {
        if (Math.abs(v - Math.rint(v)) < 1e-9) {
            return String.format(Locale.ROOT, "%,d", (long) Math.rint(v));
        }
        return String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "");
    }

    private static String f4(double v) {
        return Double.isNaN(v) ? "&ndash;" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String f3(double v) {
        return Double.isNaN(v) ? "&ndash;" : String.format(Locale.ROOT, "%.3f", v);
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
