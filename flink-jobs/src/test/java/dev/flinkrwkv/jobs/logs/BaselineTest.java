package dev.flinkrwkv.jobs.logs;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BaselineTest {
    @Test
    void firstLinesGiveThePlainMeanAndPopulationVariance() {
        double[] xs = {2, 4, 4, 4, 5, 5, 7, 9};  // mean 5, population variance 4
        Baseline b = new Baseline();
        for (double x : xs) {
            b.update(x, 0.01);  // 1/alpha = 100 lines of plain averaging
        }
        assertEquals(8, b.count);
        assertEquals(5, b.mean, 1e-12);
        assertEquals(4, b.variance, 1e-12);
        assertEquals(2, b.std(0.05), 1e-12);
        assertEquals(0.05, new Baseline().std(0.05));
    }

    @Test
    void laterLinesAreExponentiallyWeighted() {
        // The baseline equals the weighted mean and weighted population variance with weights
        // (1-a)^(n-K)/K for the first K = 1/a lines and a(1-a)^(n-i) for line i after them.
        double a = 0.1;
        int k = 10;
        int n = 57;
        Random rnd = new Random(7);
        double[] xs = new double[n];
        Baseline b = new Baseline();
        for (int i = 0; i < n; i++) {
            xs[i] = 3 + rnd.nextGaussian();
            b.update(xs[i], a);
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = i < k ? Math.pow(1 - a, n - k) / k : a * Math.pow(1 - a, n - 1 - i);
        }
        double mean = 0;
        double sumW = 0;
        for (int i = 0; i < n; i++) {
            mean += w[i] * xs[i];
            sumW += w[i];
        }
        assertEquals(1, sumW, 1e-12);
        double var = 0;
        for (int i = 0; i < n; i++) {
            var += w[i] * (xs[i] - mean) * (xs[i] - mean);
        }
        assertEquals(mean, b.mean, 1e-12);
        assertEquals(var, b.variance, 1e-12);
    }

    @Test
    void bytesRoundTrip() {
        Baseline b = new Baseline(12345, 1.25, 0.0625);
        byte[] bytes = b.toBytes();
        assertEquals(Baseline.BYTES, bytes.length);
        assertEquals(b, Baseline.fromBytes(bytes));
        assertEquals(new Baseline(), Baseline.fromBytes(null));
        assertThrows(IllegalArgumentException.class, () -> Baseline.fromBytes(new byte[3]));
    }
}
