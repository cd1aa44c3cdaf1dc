package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import org.junit.jupiter.api.Test;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineScorersTest {
    private static final String MODEL = "tiny-rwkv-5v2-730K-FP32.bin";

    private static List<byte[]> lines(String... s) {
        List<byte[]> out = new ArrayList<>();
        for (String x : s) {
            out.add(x.getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void rwkvScoresEachByteGivenTheWholeHistoryOfTheKey() throws IOException {
        RwkvModel m = RwkvModel.load(Shared.tinyModel(MODEL));
        List<byte[]> lines = lines("node 1 ok", "node 2 ok", "kernel panic");
        LineSurprisal[] got = new RwkvLineScorer(m).score(lines, n -> { });
        // Reference: one stream "\n" + lines joined by "\n", each byte's -log2 p given everything before it
        // (p in single precision, as the keyed operator keeps it).
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState st = m.initialState();
        float[] logits = new float[256];
        ev.step(st, '\n', logits);
        for (int i = 0; i < lines.size(); i++) {
            byte[] l = lines.get(i);
            double[] bits = new double[l.length];
            for (int t = 0; t < l.length; t++) {
                bits[t] = -(float) LogProbs.of(logits, 0, 256, l[t] & 0xFF) / Math.log(2);
                ev.step(st, l[t] & 0xFF, logits);
            }
            ev.step(st, '\n', logits);
            LineSurprisal want = LineSurprisal.fromBits(bits, 0, bits.length);
            assertEquals(want.tokens(), got[i].tokens());
            assertEquals(want.meanBits(), got[i].meanBits(), 1e-9);
            assertEquals(want.maxBits(), got[i].maxBits(), 1e-9);
            assertEquals(want.maxPosition(), got[i].maxPosition());
        }
    }

    @Test
    void anEnsembleScoresEachTokenByTheMeanOfItsModelsLogProbabilities() throws IOException {
        RwkvModel a = RwkvModel.load(Shared.tinyModel(MODEL));
        RwkvModel b = RwkvModel.load(Shared.tinyModel("tiny-rwkv-4v0-660K-FP32.bin"));
        List<byte[]> lines = lines("node 1 ok", "kernel panic");
        RwkvLineScorer.TokenScores sa = new RwkvLineScorer(a).tokenScores(lines, n -> { });
        RwkvLineScorer.TokenScores sb = new RwkvLineScorer(b).tokenScores(lines, n -> { });
        RwkvLineScorer.TokenScores both = new RwkvLineScorer(a).withEnsemble(List.of(b)).tokenScores(lines, n -> { });
        for (int i = 0; i < lines.size(); i++) {
            for (int t = 0; t < lines.get(i).length; t++) {
                assertEquals((sa.logProbs()[i][t] + sb.logProbs()[i][t]) / 2, both.logProbs()[i][t], 1e-6);
            }
        }
        assertTrue(sa.logProbs()[1][0] != sb.logProbs()[1][0]);  // two models that disagree
    }

    @Test
    void baselinesFindARepeatedLineLessSurprisingThanANewOne() {
        List<byte[]> lines = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            lines.add(("RAS KERNEL INFO instruction cache parity error corrected").getBytes(StandardCharsets.US_ASCII));
        }
        lines.add("ciod: failed to read message prefix on control stream".getBytes(StandardCharsets.US_ASCII));
        for (LineScorer s : List.of(new DeflateLineScorer(), new NgramLineScorer(4))) {
            LineSurprisal[] r = s.score(lines, n -> { });
            assertEquals(31, r.length);
            assertTrue(r[29].meanBits() < r[0].meanBits(), s.name() + ": repetition must get cheaper");
            assertTrue(r[30].meanBits() > 2 * r[29].meanBits(), s.name() + ": a new line must cost more");
        }
    }

    @Test
    void afterAPeriodOfNormalLinesAFamiliarLineCostsLittleAndANovelOneALot() {
        List<byte[]> lines = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            lines.add(("node " + i % 9 + " cache parity error corrected").getBytes(StandardCharsets.US_ASCII));
        }
        lines.add("node 4 cache parity error corrected".getBytes(StandardCharsets.US_ASCII));
        lines.add("kernel panic: unable to mount root fs".getBytes(StandardCharsets.US_ASCII));
        LineSurprisal[] deflate = new DeflateLineScorer().score(lines, n -> { });
        assertTrue(deflate[200].meanBits() < deflate[201].meanBits(),
                "deflate: familiar " + deflate[200].meanBits() + ", novel " + deflate[201].meanBits());
        LineSurprisal[] ngram = new NgramLineScorer(5).score(lines, n -> { });
        assertTrue(ngram[200].meanBits() < 0.5, "n-gram: familiar " + ngram[200].meanBits());
        assertTrue(ngram[201].meanBits() > 4, "n-gram: novel " + ngram[201].meanBits());
    }

    @Test
    void ngramProbabilitiesSumToOne() {
        NgramLineScorer.Counts c = new NgramLineScorer.Counts(4);
        byte[] text = "abracadabra\nabracadabra\ncadabra\n".getBytes(StandardCharsets.US_ASCII);
        long h = '\n';
        int len = 1;
        for (byte b : text) {
            c.add(h, len, b);
            h = (h << 8) | b;
            len = Math.min(len + 1, 3);
        }
        for (String ctx : new String[] {"abr", "dab", "zzz", "a\nc", "ra\n"}) {
            long hist = 0;
            for (char ch : ctx.toCharArray()) {
                hist = (hist << 8) | ch;
            }
            double sum = 0;
            for (int x = 0; x < 256; x++) {
                sum += c.probability(hist, 3, x);
            }
            assertEquals(1.0, sum, 1e-9, ctx);
        }
    }

    @Test
    void evaluatesTheSharedBglSampleAndDrawsIt() throws Exception {
        // Lines 181-220: anomalies in both halves, so the evaluated half has both classes.
        LabelledLog log = LabelledLog.readBgl(Shared.bgl()).slice(180, 220);
        String[] keys = new String[log.size()];
        java.util.Arrays.fill(keys, "default");
        List<LogEvaluation.Result> results = new ArrayList<>();
        for (LineScorer s : List.of(new RwkvLineScorer(RwkvModel.load(Shared.tinyModel(MODEL))), new DeflateLineScorer(),
                new NgramLineScorer(3))) {
            int[] last = {0};
            LogEvaluation.Result r = LogEvaluation.run(s, log, keys, 20, new AnomalyDetector(0.05, 5, 2.0, 0.05), "BGL_2k.log",
                    n -> last[0] = n);
            assertEquals(40, last[0]);
            assertEquals(40, r.scores().length);
            for (int i = 0; i < 40; i++) {
                assertEquals(i + 1, r.scores()[i].offset);
                assertTrue(Double.isFinite(r.scores()[i].meanBits) && r.scores()[i].meanBits > 0);
            }
            double[] bits = new double[2];
            long[] tokens = new long[2];
            for (int i = 20; i < 40; i++) {
                int c = log.anomalous(i) ? 1 : 0;
                bits[c] += r.scores()[i].meanBits * r.scores()[i].tokens;
                tokens[c] += r.scores()[i].tokens;
            }
            assertEquals(bits[0] / tokens[0], r.normalBitsPerToken(), 1e-9);
            assertEquals(bits[1] / tokens[1], r.anomalousBitsPerToken(), 1e-9);
            for (double v : new double[] {r.aurocMeanBits(), r.apMeanBits(), r.aurocScore(), r.apScore()}) {
                assertTrue(v >= 0 && v <= 1, s.name() + ": " + v);
            }
            results.add(r);
        }
        String html = EvalReportHtml.render("t", log, results, 20, null);
        Matcher svg = Pattern.compile("<svg .*?</svg>", Pattern.DOTALL).matcher(html);
        int plots = 0;
        while (svg.find()) {
            // Each plot is well-formed XML with a curve of 40 points and one tick per labelled anomaly.
            var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                    .parse(new ByteArrayInputStream(svg.group().getBytes(StandardCharsets.UTF_8)));
            String points = doc.getElementsByTagName("polyline").item(0).getAttributes().getNamedItem("points").getNodeValue();
            assertEquals(40, points.trim().split(" ").length);
            var lines = doc.getElementsByTagName("line");
            int anomalyTicks = 0;
            int evalMarkers = 0;
            for (int l = 0; l < lines.getLength(); l++) {
                var line = (org.w3c.dom.Element) lines.item(l);
                anomalyTicks += "#d62728".equals(((org.w3c.dom.Element) line.getParentNode()).getAttribute("stroke")) ? 1 : 0;
                evalMarkers += line.hasAttribute("stroke-dasharray") ? 1 : 0;
            }
            assertEquals(log.anomalies(), anomalyTicks);
            assertEquals(1, evalMarkers);
            plots++;
        }
        assertEquals(3, plots);
    }
}
