package dev.flinkrwkv.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VectorWidthTest {
    @Test
    void thePropertyChoosesTheWidthAnd256IsTheDefault() {
        assertEquals(256, VectorWidth.bits(null));
        assertEquals(256, VectorWidth.bits(""));
        assertEquals(256, VectorWidth.bits("256"));
        assertEquals(512, VectorWidth.bits("512"));
        assertEquals(512, VectorWidth.bits(" 512 "));
        assertEquals(256, VectorWidth.bits("1024"), "an unknown value keeps the default");
    }

    @Test
    void theProcessRunsTheWidthItWasAskedFor() {
        assertEquals(VectorWidth.bits(System.getProperty(VectorWidth.PROPERTY)), VectorWidth.BITS);
        assertEquals(VectorWidth.BITS / 32, VectorWidth.LANES);
    }
}
