package dev.flinkrwkv.jobs.logs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the HTML page shows: metrics overall and per kind, the flagged lines with text, tooltips, axes. */
class EvalReportHtmlTest {
    /** 40 lines; lines 11 and 31 are KERNDTLB anomalies, line 35 an APPSEV one with markup in its text. */
    private static LabelledLog log() throws IOException {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= 40; i++) {
            String label = i == 11 || i == 31 ? "KERNDTLB" : i == 35 ? "APPSEV" : "-";
            b.append(label).append(' ').append(i == 35 ? "node-7 <script>alert(1)</script> & more" : "node-" + (i % 3) + " ok " + i).append('\n');
        }
        return LabelledLog.parseBgl(b.toString().getBytes(StandardCharsets.UTF_8), "t");
    }

    /** Line i (from 0) has mean bits 1 + i/100, except the anomalies, which score high and are flagged; line 21 too (at 5.5 bits, below every anomaly). */
    private static LogEvaluation.Result result(LabelledLog log) {
        LineScore[] s = new LineScore[log.size()];
        for (int i = 0; i < s.length; i++) {
            boolean high = log.anomalous(i) || i == 20;
            double bits = i == 20 ? 5.5 : high ? 6 + i / 100.0 : 1 + i / 100.0;
            s[i] = new LineScore("k", "t", -1, i + 1, 10, bits, bits, 0, 1, 0.1, i, high ? 9.5 : 0.3, high);
        }
        return new LogEvaluation.Result("rwkv", s, 0.9, 0.8, 0.85, 0.7, 1.5, 1.2, 6.1);
    }

    @Test
    void aLabelledLogGetsThePerKindTableTheFlaggedLinesTooltipsAndAxes() throws IOException {
        LabelledLog log = log();
        String page = EvalReportHtml.render("report", log, List.of(result(log)), 10, null);
        assertTrue(page.contains("lines 11&ndash;40 are evaluated (3 anomalies), the 10 lines before them only warm"), page);
        // per kind, over the evaluated part: KERNDTLB (2 lines) first, then APPSEV
        assertTrue(page.contains("<tr><td>all anomalies</td><td>3</td><td>27</td>"), page);
        int k = page.indexOf("<tr><td>KERNDTLB</td><td>2</td><td>27</td><td>1.0000</td>");
        int a = page.indexOf("<tr><td>APPSEV</td><td>1</td><td>27</td><td>1.0000</td>");
        assertTrue(k > 0 && a > k, page);
        // the flagged lines of the evaluated part, with score, label and escaped text
        assertTrue(page.contains("rwkv: 4 flagged lines"), page);
        assertTrue(page.contains("<tr><td>35</td><td>9.50</td><td>6.34</td><td>APPSEV</td>"
                + "<td class=\"text\">node-7 &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</td></tr>"), page);
        assertTrue(page.contains("<tr><td>21</td><td>9.50</td><td>5.50</td><td>normal</td>"), page);
        assertFalse(page.contains("<script>"), "line text is escaped");
        // tooltips name the line, its score and its text
        assertTrue(page.contains("<title>line 12 [normal]: 1.11 bits/token, score 0.30\nnode-0 ok 12</title>"), page);
        assertTrue(page.contains("<title>line 31 [KERNDTLB]: 6.30 bits/token, score 9.50 (flagged)\nnode-1 ok 31</title>"), page);
        // axes: titles and round ticks (0 to 7 bits, lines 5, 10, ... 40)
        assertTrue(page.contains(">line of the log</text>") && page.contains("mean surprisal (bits/token)</text>"), page);
        for (String tick : new String[] {">0</text>", ">2</text>", ">6</text>", ">10</text>", ">40</text>"}) {
            assertTrue(page.contains(tick), tick);
        }
        assertTrue(page.contains("evaluated &#8594;"), page);
    }

    @Test
    void withoutLabelsOnlyScoresAndWithoutWarmUpNoEvaluatedPartIsMentioned() throws IOException {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("plain", ".log");
        try {
            java.nio.file.Files.writeString(f, "a b\nc d\nx <y>\n");
            LabelledLog u = LabelledLog.readUnlabelled(f);
            LineScore[] s = new LineScore[3];
            for (int i = 0; i < 3; i++) {
                s[i] = new LineScore("k", "t", -1, i + 1, 3, 2.0 + i, 3, 0, 2, 0.1, i, i == 2 ? 5 : 0, i == 2);
            }
            String page = EvalReportHtml.render("u", u, List.of(new LogEvaluation.Result("ngram", s, Double.NaN, Double.NaN,
                    Double.NaN, Double.NaN, 0.1, 3.0, Double.NaN)), 0, null);
            assertTrue(page.contains("3 lines, without labels: scores only."), page);
            assertFalse(page.contains("AUROC") || page.contains("labelled anomaly") || page.contains("warm"), page);
            assertFalse(page.contains("evaluated &#8594;"), page);
            assertTrue(page.contains("<tr><td>3</td><td>5.00</td><td>4.00</td><td class=\"text\">x &lt;y&gt;</td></tr>"), page);
        } finally {
            java.nio.file.Files.delete(f);
        }
    }

    @Test
    void ticksAreRoundAndCoverTheRange() {
        assertArrayEquals(new double[] {0, 2, 4, 6, 8}, EvalReportHtml.ticks(0, 7.3, 6), 1e-9);
        assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6}, EvalReportHtml.ticks(0, 0.55, 4), 1e-9);
        double[] lines = EvalReportHtml.ticks(1, 2000, 10);
        assertEquals(0, lines[0], 1e-9);
        assertEquals(500, lines[1] - lines[0], 1e-9);
        assertTrue(lines[lines.length - 1] >= 2000);
    }
}
