package dev.flinkrwkv.jobs.bench;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadBandwidthTest {
    /** Every probe (the vector widths here, or the plain loop) sums any range, ragged ends included. */
    @Test
    void eachProbeSumsEveryFloatOfItsRange() {
        float[] a = new float[3 * ReadBandwidth.CHUNK + 37];
        Random rnd = new Random(7);
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextInt(16); // small integers: every order of summation is exact
        }
        for (ReadBandwidth.Probe p : ReadBandwidth.probes()) {
            for (int[] range : new int[][] {{0, a.length}, {5, 5}, {3, 200}, {1, a.length - 1}, {a.length - 9, a.length}}) {
                double expected = 0;
                for (int i = range[0]; i < range[1]; i++) {
                    expected += a[i];
                }
                assertEquals(expected, p.sum(a, range[0], range[1]), p.name() + " over " + range[0] + ".." + range[1]);
            }
        }
        assertTrue(ReadBandwidth.probes().get(0).name().endsWith("-bit vectors"), "the tests run with jdk.incubator.vector");
    }

    @Test
    void streamsReadTheWholeArrayOnce() {
        float[] a = new float[4 * ReadBandwidth.CHUNK * 3];
        for (int i = 0; i < a.length; i++) {
            a[i] = i % 5;
        }
        double expected = ReadBandwidth.PLAIN.sum(a, 0, a.length);
        for (int streams : new int[] {1, 2, 4}) {
            assertEquals(expected, ReadBandwidth.sumAll(ReadBandwidth.PLAIN, a, streams), streams + " streams");
        }
    }

    @Test
    void measuresAFinitePositiveBandwidthAndNamesTheWayOfReading() {
        ReadBandwidth.Result r = ReadBandwidth.measure(2, 8L << 20, 2);
        assertTrue(r.gigabytesPerSecond() > 0 && Double.isFinite(r.gigabytesPerSecond()), r.toString());
        assertTrue(r.probe().matches(".*, [14] streams?"), r.probe());
    }
}
