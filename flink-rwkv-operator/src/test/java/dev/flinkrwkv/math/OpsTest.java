package dev.flinkrwkv.math;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpsTest {
    @Test
    void squaredReluIsZeroBelowZeroAndTheSquareAbove() {
        assertEquals(0f, Ops.squaredRelu(-3.5f));
        assertEquals(0f, Ops.squaredRelu(-Float.MIN_VALUE));
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(Ops.squaredRelu(-0f)), "+0, not -0");
        assertEquals(0f, Ops.squaredRelu(0f));
        assertEquals(6.25f, Ops.squaredRelu(2.5f));
        assertEquals(Float.POSITIVE_INFINITY, Ops.squaredRelu(Float.MAX_VALUE));
        assertEquals(0f, Ops.squaredRelu(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(Ops.squaredRelu(Float.NaN)), "a NaN is not hidden as 0");
    }
}
