package dev.flinkrwkv.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WeightAverageTest {
    @Test
    void itStartsFromTheFirstValuesAndDecaysTowardsTheLaterOnes() {
        WeightAverage a = new WeightAverage(0.75, 2);
        double[] w = {4, -8};
        a.update(w);
        w[0] = 8;
        w[1] = 0;
        a.update(w);   // 0.75 * old + 0.25 * new
        w[0] = 0;
        w[1] = 16;
        a.update(w);
        assertEquals(3, a.updates());
        a.swap(w);
        assertArrayEquals(new double[] {0.75 * (0.75 * 4 + 0.25 * 8), 0.75 * (0.75 * -8) + 0.25 * 16}, w, 1e-12);
        a.swap(w);
        assertArrayEquals(new double[] {0, 16}, w, 0.0);  // the live weights back, exactly
    }

    @Test
    void misuseIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new WeightAverage(1, 3));
        assertThrows(IllegalArgumentException.class, () -> new WeightAverage(-0.1, 3));
        WeightAverage a = new WeightAverage(0.9, 3);
        assertThrows(IllegalStateException.class, () -> a.swap(new double[3]));
        assertThrows(IllegalArgumentException.class, () -> a.update(new double[2]));
    }
}
