package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/**
 * Q4_1: a half scale d and a half minimum m, then 32 nibbles q; a value is {@code q*d + m}. Encoded over
 * the block's range in 15 steps, quants clamped to 15.
 */
public final class Q4_1 extends NibbleBlocks {
    public Q4_1() {
        super("Q4_1", 20, true, 4, -1, 0);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        withMin(x, o, out, 15, 15, false);
    }
}
