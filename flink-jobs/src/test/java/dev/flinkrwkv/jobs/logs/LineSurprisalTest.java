package dev.flinkrwkv.jobs.logs;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineSurprisalTest {
    @Test
    void meanMaxAndFirstPositionOfTheMaximum() {
        double[] bits = {9, 1, 2, 6, 3, 6, 1};
        LineSurprisal s = LineSurprisal.fromBits(bits, 1, 6);  // 1 2 6 3 6 1
        assertEquals(6, s.tokens());
        assertEquals(19.0 / 6, s.meanBits(), 1e-12);
        assertEquals(6, s.maxBits());
        assertEquals(2, s.maxPosition()); // the first 6, index within the line
    }

    @Test
    void logProbsInNatsBecomeBits() {
        float[] lp = {(float) Math.log(0.5), (float) Math.log(0.125), (float) Math.log(0.25)};
        LineSurprisal s = LineSurprisal.fromLogProbs(lp, 0, 3);
        assertEquals((1 + 3 + 2) / 3.0, s.meanBits(), 1e-6);
        assertEquals(3, s.maxBits(), 1e-6);
        assertEquals(1, s.maxPosition());
        LineSurprisal same = LineSurprisal.fromBits(new double[] {1, 3, 2}, 0, 3);
        assertEquals(same.meanBits(), s.meanBits(), 1e-6);
    }

    @Test
    void wholeLineTotalsHaveNoMaximum() {
        LineSurprisal s = LineSurprisal.fromTotalBits(40, 16);
        assertEquals(2.5, s.meanBits());
        assertTrue(Double.isNaN(s.maxBits()));
        assertEquals(-1, s.maxPosition());
        assertEquals(0, LineSurprisal.fromBits(new double[0], 0, 0).tokens());
    }
}
