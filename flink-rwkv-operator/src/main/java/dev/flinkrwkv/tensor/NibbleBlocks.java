package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/**
 * The 4- and 5-bit block types: the scale (and minimum, and for the 5-bit types 32 fifth bits as a
 * little-endian uint32), then 16 bytes of nibbles; value j is the low nibble of byte j for j &lt; 16, else
 * the high nibble of byte j-16, and its fifth bit is bit j of the uint32. A subclass gives the byte offsets
 * and the offset subtracted from each quant, and picks its encoder's rounding rules.
 */
public abstract sealed class NibbleBlocks extends Blocks permits Q4_0, Q4_1, Q5_0, Q5_1 {
    /** Byte of the block where its 16 bytes of nibbles start. */
    private final int nibblesAt;
    /** Byte of the block's 32 fifth bits, or -1 for the 4-bit types. */
    private final int fifthBitsAt;
    /** Subtracted from every quant: 8 for Q4_0, 16 for Q5_0, 0 for the types with a minimum. */
    private final int offset;

    NibbleBlocks(String name, int blockBytes, boolean hasMinimum, int nibblesAt, int fifthBitsAt, int offset) {
        super(name, blockBytes, hasMinimum);
        this.nibblesAt = nibblesAt;
        this.fifthBitsAt = fifthBitsAt;
        this.offset = offset;
    }

    /** The block's 32 fifth bits (bit j: value j's), 0 for the 4-bit types. */
    private int fifthBits(ByteBuffer src, int p) {
        return fifthBitsAt < 0 ? 0 : src.getInt(p + fifthBitsAt);
    }

    @Override
    final void decodeBlock(ByteBuffer src, int p, float[] out, int o) {
        float d = Half.toFloat(src.getShort(p));
        int qs = p + nibblesAt, qh = fifthBits(src, p);
        if (hasMinimum()) {
            float m = Half.toFloat(src.getShort(p + 2));
            for (int j = 0; j < 16; j++) {
                int b = src.get(qs + j) & 0xFF;
                out[o + j] = Math.fma(low(b, qh, j) - offset, d, m);
                out[o + j + 16] = Math.fma(high(b, qh, j) - offset, d, m);
            }
        } else {
            for (int j = 0; j < 16; j++) {
                int b = src.get(qs + j) & 0xFF;
                out[o + j] = (low(b, qh, j) - offset) * d;
                out[o + j + 16] = (high(b, qh, j) - offset) * d;
            }
        }
    }

    @Override
    public final void quants(ByteBuffer src, int p, byte[] q, int o) {
        int qs = p + nibblesAt, qh = fifthBits(src, p);
        for (int j = 0; j < 16; j++) {
            int b = src.get(qs + j) & 0xFF;
            q[o + j] = (byte) (low(b, qh, j) - offset);
            q[o + j + 16] = (byte) (high(b, qh, j) - offset);
        }
    }

    /** Value j (0..15) of byte b: its low nibble and fifth bit j of qh. */
    private static int low(int b, int qh, int j) {
        return (b & 0x0F) | ((qh >>> j) & 1) << 4;
    }

    /** Value j + 16 of byte b: its high nibble and fifth bit j + 16 of qh. */
    private static int high(int b, int qh, int j) {
        return (b >>> 4) | ((qh >>> (j + 16)) & 1) << 4;
    }

    // ---- encoders

    /**
     * Q4_0 / Q5_0: the scale is the block's value of largest magnitude (the first one on ties, sign kept)
     * divided by {@code divisor} (-8 / -16); quants are {@code (int8)(x/d + 8.5)} (or 16.5), clamped to
     * {@code maxQ} (15 / 31).
     */
    static void symmetric(float[] x, int o, ByteBuffer out, float divisor, int maxQ, boolean fiveBits) {
        float amax = 0f, max = 0f;
        for (int j = 0; j < VALUES; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / divisor;
        float id = d != 0f ? 1.0f / d : 0f;
        float bias = 0.5f - divisor; // 8.5 or 16.5
        out.putShort(Half.fromFloat(d));
        packNibbles(x, o, out, id, 0f, bias, maxQ, fiveBits);
    }

    /**
     * Q4_1 / Q5_1: {@code d = (max - min) / levels} (15 / 31), {@code m = min} (the float min is used for
     * the quants, not its half rounding); quants are {@code (int8)((x - min)/d + 0.5)}, clamped to
     * {@code maxQ}.
     */
    static void withMin(float[] x, int o, ByteBuffer out, int levels, int maxQ, boolean fiveBits) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < VALUES; j++) {
            float v = x[o + j];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        float d = (max - min) / levels;
        float id = d != 0f ? 1.0f / d : 0f;
        out.putShort(Half.fromFloat(d));
        out.putShort(Half.fromFloat(min));
        packNibbles(x, o, out, id, min, 0.5f, maxQ, fiveBits);
    }

    /**
     * Quantizes {@code q = min(maxQ, (int8)((x - sub)*id + bias))} for the 32 values of a block and stores
     * them as 16 bytes of nibble pairs (element j low, j+16 high), preceded for 5-bit types by the 32 fifth
     * bits as a little-endian uint32.
     */
    private static void packNibbles(float[] x, int o, ByteBuffer out, float id, float sub, float bias, int maxQ,
                                    boolean fiveBits) {
        int qh = 0;
        int qsAt = out.position() + (fiveBits ? 4 : 0);
        for (int j = 0; j < 16; j++) {
            int q0 = Math.min(maxQ, toInt8((x[o + j] - sub) * id + bias));
            int q1 = Math.min(maxQ, toInt8((x[o + j + 16] - sub) * id + bias));
            out.put(qsAt + j, (byte) ((q0 & 0x0F) | ((q1 & 0x0F) << 4)));
            qh |= ((q0 >>> 4) & 1) << j;
            qh |= ((q1 >>> 4) & 1) << (j + 16);
        }
        if (fiveBits) {
            out.putInt(qh);
        }
        out.position(qsAt + 16);
    }

    /**
     * C's {@code (int8_t) f} for the values quantizers produce: truncation toward zero, then the low 8 bits
     * as a signed byte (what x86 compilers do; the values here stay well inside the range anyway).
     */
    private static int toInt8(float f) {
        return (byte) (int) f;
    }
}
