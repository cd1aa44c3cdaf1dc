package dev.flinkrwkv.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class Q8_0Test {
    @Test
    void roundfBreaksTiesAwayFromZero() {
        assertEquals(3, Q8_0.roundHalfAwayFromZero(2.5f));
        assertEquals(-3, Q8_0.roundHalfAwayFromZero(-2.5f));
        assertEquals(0, Q8_0.roundHalfAwayFromZero(0.49999997f));
        assertEquals(-1, Q8_0.roundHalfAwayFromZero(-0.5f));
        assertEquals(127, Q8_0.roundHalfAwayFromZero(127f));
    }
}
