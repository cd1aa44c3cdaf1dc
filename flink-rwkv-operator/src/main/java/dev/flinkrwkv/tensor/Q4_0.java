package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/**
 * Q4_0: a half scale d, then 32 nibbles q; a value is {@code (q - 8)*d}. Encoded with d the block's value
 * of largest magnitude over -8, quants clamped to 15.
 */
public final class Q4_0 extends NibbleBlocks {
    public Q4_0() {
        super("Q4_0", 18, false, 2, -1, 8);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        symmetric(x, o, out, -8f, 15, false);
    }
}
