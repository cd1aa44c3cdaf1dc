package dev.flinkrwkv.jobs.logs;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RankMetricsTest {
    private static boolean[] labels(int... l) {
        boolean[] b = new boolean[l.length];
        for (int i = 0; i < l.length; i++) {
            b[i] = l[i] == 1;
        }
        return b;
    }

    @Test
    void handCheckedWithoutTies() {
        double[] s = {0.1, 0.4, 0.35, 0.8};
        boolean[] y = labels(0, 0, 1, 1);
        // Pairs (pos > neg): 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3 of 4.
        assertEquals(0.75, RankMetrics.auroc(s, y), 1e-12);
        // From the top: 0.8 (+) P=1 R=.5; 0.4 (-); 0.35 (+) P=2/3 R=1 -> .5*1 + .5*2/3.
        assertEquals(0.5 + 1.0 / 3, RankMetrics.averagePrecision(s, y), 1e-12);
        assertEquals(1.0, RankMetrics.auroc(new double[] {1, 2, 3, 4}, labels(0, 0, 1, 1)), 1e-12);
        assertEquals(0.0, RankMetrics.auroc(new double[] {4, 3, 2, 1}, labels(0, 0, 1, 1)), 1e-12);
        assertEquals(1.0, RankMetrics.averagePrecision(new double[] {1, 2, 3, 4}, labels(0, 0, 1, 1)), 1e-12);
    }

    @Test
    void handCheckedWithTies() {
        // All tied: AUROC one half, AP the share of anomalies.
        assertEquals(0.5, RankMetrics.auroc(new double[] {2, 2, 2, 2, 2}, labels(1, 0, 0, 1, 0)), 1e-12);
        assertEquals(0.4, RankMetrics.averagePrecision(new double[] {2, 2, 2, 2, 2}, labels(1, 0, 0, 1, 0)), 1e-12);
        // {1(+),1(-)} tied above 0(+): pairs: (1+ vs 1-) = 1/2; (0+ vs 1-) = 0 -> 0.25.
        double[] s = {1, 1, 0};
        boolean[] y = labels(1, 0, 1);
        assertEquals(0.25, RankMetrics.auroc(s, y), 1e-12);
        // Threshold 1: R=.5, P=.5; threshold 0: R=1, P=2/3 -> .25 + .5*2/3.
        assertEquals(0.25 + 1.0 / 3, RankMetrics.averagePrecision(s, y), 1e-12);
        // Pairs (anomaly, normal): (0.5,0.5) tie, (0.5,0.1) win, (0.3,0.5) loss, (0.3,0.1) win -> 2.5 / 4.
        assertEquals(0.625, RankMetrics.auroc(new double[] {0.5, 0.5, 0.1, 0.3}, labels(0, 1, 0, 1)), 1e-12);
    }

    @Test
    void aurocMatchesBruteForcePairsOnRandomDataWithTies() {
        Random r = new Random(42);
        for (int trial = 0; trial < 50; trial++) {
            int n = 2 + r.nextInt(200);
            double[] s = new double[n];
            boolean[] y = new boolean[n];
            for (int i = 0; i < n; i++) {
                s[i] = r.nextInt(12);           // many ties
                y[i] = r.nextDouble() < 0.3;
            }
            y[0] = true;
            y[1] = false;
            double wins = 0;
            long pairs = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (y[i] && !y[j]) {
                        pairs++;
                        wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                    }
                }
            }
            assertEquals(wins / pairs, RankMetrics.auroc(s, y), 1e-12);
        }
    }

    @Test
    void averagePrecisionMatchesPrecisionAtEachAnomalyWithoutTies() {
        Random r = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            int n = 2 + r.nextInt(200);
            double[] s = new double[n];
            boolean[] y = new boolean[n];
            int positives = 0;
            for (int i = 0; i < n; i++) {
                s[i] = r.nextDouble();
                y[i] = r.nextDouble() < 0.2 || i == 0;
                positives += y[i] ? 1 : 0;
            }
            // Without ties, AP is the mean over anomalies of the precision among lines scored at least as high.
            double sum = 0;
            for (int i = 0; i < n; i++) {
                if (y[i]) {
                    int above = 0;
                    int anomaliesAbove = 0;
                    for (int j = 0; j < n; j++) {
                        if (s[j] >= s[i]) {
                            above++;
                            anomaliesAbove += y[j] ? 1 : 0;
                        }
                    }
                    sum += (double) anomaliesAbove / above;
                }
            }
            assertEquals(sum / positives, RankMetrics.averagePrecision(s, y), 1e-12);
        }
    }

    @Test
    void undefinedWithoutBothClassesAndRejectsBadInput() {
        assertTrue(Double.isNaN(RankMetrics.auroc(new double[] {1, 2}, labels(0, 0))));
        assertTrue(Double.isNaN(RankMetrics.auroc(new double[] {1, 2}, labels(1, 1))));
        assertTrue(Double.isNaN(RankMetrics.averagePrecision(new double[] {1, 2}, labels(0, 0))));
        assertEquals(1.0, RankMetrics.averagePrecision(new double[] {1, 2}, labels(1, 1)));
        assertThrows(IllegalArgumentException.class, () -> RankMetrics.auroc(new double[] {1}, labels(1, 0)));
        assertThrows(IllegalArgumentException.class, () -> RankMetrics.auroc(new double[] {Double.NaN, 1}, labels(1, 0)));
    }
}
