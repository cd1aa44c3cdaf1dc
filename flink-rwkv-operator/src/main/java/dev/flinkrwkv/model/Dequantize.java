package dev.flinkrwkv.model;

import java.nio.ByteBuffer;

/**
 * Block decoders of every storage type, to float32 exactly: {@code q*d} or {@code q*d + m} with d and m
 * widened from half first. Low nibbles hold elements 0..15 of a block, high nibbles 16..31.
 */
public final class Dequantize {
    private Dequantize() {}

    /** Decodes {@code n} values starting at byte {@code pos} of {@code src} (little-endian) into {@code out}. */
    public static void row(TensorType type, ByteBuffer src, long pos, int n, float[] out, int off) {
        int p = Math.toIntExact(pos);
        switch (type) {
            case FP32:
                for (int i = 0; i < n; i++) {
                    out[off + i] = src.getFloat(p + 4 * i);
                }
                return;
            case FP16:
                for (int i = 0; i < n; i++) {
                    out[off + i] = Half.toFloat(src.getShort(p + 2 * i));
                }
                return;
            default:
                for (int b = 0; b < n / 32; b++) {
                    block(type, src, p + b * type.blockBytes, out, off + 32 * b);
                }
        }
    }

    /** Decodes one 32-value block at byte {@code p}: {@code q*d}, or {@code q*d + m} for Q4_1 and Q5_1. */
    static void block(TensorType type, ByteBuffer src, int p, float[] out, int o) {
        float d = Half.toFloat(src.getShort(p));
        if (hasMinimum(type)) {
            float m = Half.toFloat(src.getShort(p + 2));
            for (int j = 0; j < 32; j++) {
                out[o + j] = quant(type, src, p, j) * d + m;
            }
        } else {
            for (int j = 0; j < 32; j++) {
                out[o + j] = quant(type, src, p, j) * d;
            }
        }
    }

    /** Whether a block type adds a minimum m to {@code q*d} (Q4_1, Q5_1); its half follows the scale's. */
    public static boolean hasMinimum(TensorType type) {
        return type == TensorType.Q4_1 || type == TensorType.Q5_1;
    }

    /**
     * The integer q of value j (0..31) of the block at byte {@code p}, the offset of Q4_0 (8) and Q5_0 (16)
     * already subtracted: between -16 and 31 for the 4/5-bit types, a signed byte for Q8_0.
     */
    public static int quant(TensorType type, ByteBuffer src, int p, int j) {
        switch (type) {
            case Q4_0:
                return nibble(src, p + 2, j) - 8;
            case Q4_1:
                return nibble(src, p + 4, j);
            case Q5_0:
                return (nibble(src, p + 6, j) | fifthBit(src.getInt(p + 2), j)) - 16;
            case Q5_1:
                return nibble(src, p + 8, j) | fifthBit(src.getInt(p + 4), j);
            case Q8_0:
                return src.get(p + 2 + j);
            default:
                throw new IllegalArgumentException("not a block type: " + type);
        }
    }

    /** Value j of 16 bytes of nibbles at {@code qs}: the low nibble of byte j for j < 16, else the high one of byte j-16. */
    private static int nibble(ByteBuffer src, int qs, int j) {
        int q = src.get(qs + (j & 15)) & 0xFF;
        return j < 16 ? q & 0x0F : q >>> 4;
    }

    /** Bit 4 of value j of a 5-bit block: bit j of the block's 32 high bits {@code qh}. */
    private static int fifthBit(int qh, int j) {
        return ((qh >>> j) & 1) << 4;
    }
}
