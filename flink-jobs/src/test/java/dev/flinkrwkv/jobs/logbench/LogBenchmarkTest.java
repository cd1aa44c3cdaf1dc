package dev.flinkrwkv.jobs.logbench;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ranking metrics and the two baseline scorers of {@code bench-logs}. */
class LogBenchmarkTest {
    @Test
    void aurocCountsCorrectlyOrderedPairsWithTiesAsHalf() {
        boolean[] anomaly = {false, true, false, true};
        assertEquals(1.0, RankMetrics.auroc(new double[] {0.1, 0.9, 0.2, 0.8}, anomaly), 1e-12);
        assertEquals(0.0, RankMetrics.auroc(new double[] {0.9, 0.1, 0.8, 0.2}, anomaly), 1e-12);
        // pairs (anomaly, normal): (0.5,0.5) tie, (0.5,0.1) win, (0.3,0.5) loss, (0.3,0.1) win -> 2.5 / 4
        assertEquals(0.625, RankMetrics.auroc(new double[] {0.5, 0.5, 0.1, 0.3}, anomaly), 1e-12);
    }

    @Test
    void averagePrecisionIsTheMeanPrecisionAtEachAnomaly() {
        boolean[] anomaly = {true, false, true, false};
        // ranked: 0.9 (anomaly, precision 1), 0.8 (normal), 0.7 (anomaly, precision 2/3), 0.1
        assertEquals((1 + 2.0 / 3) / 2, RankMetrics.averagePrecision(new double[] {0.9, 0.8, 0.7, 0.1}, anomaly), 1e-12);
        assertEquals(1.0, RankMetrics.averagePrecision(new double[] {0.9, 0.1, 0.8, 0.2}, anomaly), 1e-12);
    }

    @Test
    void baselinesFindFamiliarLinesLessSurprisingThanNovelOnes() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sb.append("node ").append(i % 9).append(" cache parity error corrected\n");
        }
        byte[] normal = sb.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] familiar = "node 4 cache parity error corrected\n".getBytes(StandardCharsets.US_ASCII);
        byte[] novel = "kernel panic: unable to mount root fs\n".getBytes(StandardCharsets.US_ASCII);

        DeflateSurprisal deflate = new DeflateSurprisal(normal);
        assertTrue(deflate.bitsPerByte(familiar) < deflate.bitsPerByte(novel));

        CharNgramModel ngram = new CharNgramModel(4, normal);
        assertTrue(meanBits(ngram, familiar) < 0.5, "familiar " + meanBits(ngram, familiar));
        assertTrue(meanBits(ngram, novel) > 4, "novel " + meanBits(ngram, novel));
    }

    private static double meanBits(CharNgramModel m, byte[] line) {
        double s = 0;
        for (int i = 0; i < line.length; i++) {
            s += m.surprisalBits(line, i);
        }
        return s / line.length;
    }
}
