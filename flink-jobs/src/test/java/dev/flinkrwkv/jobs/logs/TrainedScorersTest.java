package dev.flinkrwkv.jobs.logs;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainedScorersTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Routine lines that differ in their numbers only, as a log's normal traffic does. */
    private static List<byte[]> routine(int n, long seed) {
        Random r = new Random(seed);
        List<byte[]> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lines.add(b(String.format("%d R%02d-M%d node-%d RAS KERNEL INFO generating core.%d", 1117838570 + i,
                    r.nextInt(64), r.nextInt(2), r.nextInt(128), r.nextInt(5000))));
        }
        return lines;
    }

    @Test
    void kneserNeyIsADistributionOverTheNextByteInEveryContext() {
        KneserNeyScorer.Model m = new KneserNeyScorer.Model(4, routine(200, 1));
        for (String h : List.of("RAS", "KER", "zzz", "\n\n\n", "e-1")) {
            long history = 0;
            for (byte x : b(h)) {
                history = (history << 8) | (x & 0xFF);
            }
            double sum = 0;
            for (int c = 0; c < 256; c++) {
                double p = m.probability(history, c);
                assertTrue(p > 0, h + " " + c);
                sum += p;
            }
            assertEquals(1.0, sum, 1e-9, h);
        }
    }

    @Test
    void kneserNeyChoosesItsOrderOnTheTrainingLinesAndRanksANewMessageAbove() {
        KneserNeyScorer kn = new KneserNeyScorer();
        kn.train(routine(300, 2));
        assertTrue(kn.order() >= KneserNeyScorer.MIN_ORDER && kn.order() <= KneserNeyScorer.MAX_ORDER, kn.name());
        assertEquals("kn-ngram(" + kn.order() + ")", kn.name());
        double normal = kn.score(routine(1, 99).get(0));
        double alert = kn.score(b("1117838999 R07-M1 node-3 KERNEL FATAL data TLB error interrupt"));
        assertTrue(alert > normal + 1, normal + " vs " + alert);
        KneserNeyScorer again = new KneserNeyScorer();
        again.train(routine(300, 2));
        assertEquals(kn.score(b("anything at all")), again.score(b("anything at all")));
    }

    @Test
    void unseenWordsAndTemplatesMaskNumbers() {
        UnseenWordsScorer words = new UnseenWordsScorer();
        UnseenTemplateScorer templates = new UnseenTemplateScorer();
        List<byte[]> train = routine(50, 3);
        words.train(train);
        templates.train(train);
        byte[] otherNumbers = b("2005 R63-M0 node-127 RAS KERNEL INFO generating core.4999");
        assertEquals(0.0, words.score(otherNumbers));
        assertEquals(0.0, templates.score(otherNumbers));
        byte[] fatal = b("2005 R63-M0 node-127 RAS KERNEL FATAL generating core.4999");
        assertEquals(1.0 / 8, words.score(fatal), 1e-12);
        assertEquals(1.0, templates.score(fatal));
        assertEquals("R0-M0-N0-C:J0-U0 0.0", LogWords.template(b("R02-M1-N0-C:J12-U11 2005.06")));
    }

    @Test
    void theDeflateDictionaryIsTheTrainingTextsTail() {
        DictionaryDeflateScorer d = new DictionaryDeflateScorer();
        DictionaryDeflateScorer empty = new DictionaryDeflateScorer();
        d.train(routine(2000, 4));  // more than deflate's 32 KiB window
        empty.train(List.of());
        byte[] line = routine(1, 5).get(0);
        assertTrue(d.score(line) < 0.6 * empty.score(line), d.score(line) + " vs " + empty.score(line));
        byte[] noise = new byte[60];
        new Random(6).nextBytes(noise);
        assertTrue(d.score(noise) > 2 * d.score(line));
    }

    @Test
    void theAurocIntervalHoldsTheEstimateAndIsReproducible() {
        Random r = new Random(7);
        int n = 400;
        double[] s = new double[n];
        boolean[] y = new boolean[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 10 == 0;
            s[i] = Math.round((y[i] ? 1.0 : 0.0) + r.nextGaussian() * 4) / 2.0;  // overlapping classes, with ties
        }
        double auroc = RankMetrics.auroc(s, y);
        double[] ci = RankMetrics.aurocInterval(s, y, 0.95, 1000, 1);
        assertTrue(ci[0] < auroc && auroc < ci[1], auroc + " " + ci[0] + "-" + ci[1]);
        assertTrue(ci[1] - ci[0] > 0.05 && ci[1] - ci[0] < 0.5, ci[0] + "-" + ci[1]);
        assertArrayEquals(ci, RankMetrics.aurocInterval(s, y, 0.95, 1000, 1));
        double[] narrow = RankMetrics.aurocInterval(s, y, 0.5, 1000, 1);
        assertTrue(narrow[0] > ci[0] && narrow[1] < ci[1]);
        // Perfectly separated classes stay perfectly separated in every resample.
        assertArrayEquals(new double[] {1, 1}, RankMetrics.aurocInterval(new double[] {1, 2, 3, 4, 5}, new boolean[] {false, false, false, true, true}, 0.95, 200, 1));
    }
}
