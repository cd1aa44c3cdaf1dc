package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/**
 * Q5_0: a half scale d, 32 fifth bits, then 32 nibbles; a value is {@code (q - 16)*d}. Encoded with d the
 * block's value of largest magnitude over -16, quants clamped to 31.
 */
public final class Q5_0 extends NibbleBlocks {
    public Q5_0() {
        super("Q5_0", 22, false, 6, 2, 16);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        symmetric(x, o, out, -16f, 31, true);
    }
}
