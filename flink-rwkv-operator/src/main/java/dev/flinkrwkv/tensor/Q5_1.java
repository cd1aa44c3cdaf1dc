package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/**
 * Q5_1: a half scale d and a half minimum m, 32 fifth bits, then 32 nibbles; a value is {@code q*d + m}.
 * Encoded over the block's range in 31 steps; ggml does not clamp these quants (the 5-bit value is taken
 * as it comes, masked), so neither does this.
 */
public final class Q5_1 extends NibbleBlocks {
    public Q5_1() {
        super("Q5_1", 24, true, 8, 4, 0);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        withMin(x, o, out, 31, Integer.MAX_VALUE, true);
    }
}
