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
            case BF16:
                for (int i = 0; i < n; i++) {
                    out[off + i] = BFloat16.toFloat(src.getShort(p + 2 * i));
                }
                return;
            default:
                for (int b = 0; b < n / 32; b++) {
                    block(type, src, p + b * type.blockBytes, out, off + 32 * b);
                }
        }
    }

    /**
     * Decodes one 32-value block at byte {@code p}: {@code q*d}, or {@code q*d + m} for Q4_1 and Q5_1, with q
     * as {@link #quants} gives it (written out here rather than through a byte array: this is the plain-Java
     * kernel's hot loop, and the detour cost it a third of its speed).
     */
    static void block(TensorType type, ByteBuffer src, int p, float[] out, int o) {
        float d = Half.toFloat(src.getShort(p));
        if (type == TensorType.Q8_0) {
            for (int j = 0; j < 32; j++) {
                out[o + j] = src.get(p + 2 + j) * d;
            }
            return;
        }
        int qs = p + nibblesAt(type), qh = fifthBits(type, src, p), offset = offset(type);
        if (hasMinimum(type)) {
            float m = Half.toFloat(src.getShort(p + 2));
            for (int j = 0; j < 16; j++) {
                int b = src.get(qs + j) & 0xFF;
                out[o + j] = (low(b, qh, j) - offset) * d + m;
                out[o + j + 16] = (high(b, qh, j) - offset) * d + m;
            }
        } else {
            for (int j = 0; j < 16; j++) {
                int b = src.get(qs + j) & 0xFF;
                out[o + j] = (low(b, qh, j) - offset) * d;
                out[o + j + 16] = (high(b, qh, j) - offset) * d;
            }
        }
    }

    /** Whether a block type adds a minimum m to {@code q*d} (Q4_1, Q5_1); its half follows the scale's. */
    public static boolean hasMinimum(TensorType type) {
        return type == TensorType.Q4_1 || type == TensorType.Q5_1;
    }

    /**
     * The 32 integer quants q of the block at byte {@code p} into {@code q[o ..]}, the offset of Q4_0 (8) and
     * Q5_0 (16) already subtracted: between -16 and 31 for the 4/5-bit types, a signed byte for Q8_0.
     */
    public static void quants(TensorType type, ByteBuffer src, int p, byte[] q, int o) {
        if (type == TensorType.Q8_0) {
            src.get(p + 2, q, o, 32);
            return;
        }
        int qs = p + nibblesAt(type), qh = fifthBits(type, src, p), offset = offset(type);
        for (int j = 0; j < 16; j++) {
            int b = src.get(qs + j) & 0xFF;
            q[o + j] = (byte) (low(b, qh, j) - offset);
            q[o + j + 16] = (byte) (high(b, qh, j) - offset);
        }
    }

    // ---- the 4/5-bit layouts: scale (and minimum, and 32 fifth bits), then 16 bytes of nibbles; value j is
    //      the low nibble of byte j for j < 16, else the high one of byte j-16, its fifth bit bit j of qh

    /** Byte of the block where its 16 bytes of nibbles start. */
    private static int nibblesAt(TensorType type) {
        switch (type) {
            case Q4_0:
                return 2;
            case Q4_1:
                return 4;
            case Q5_0:
                return 6;
            case Q5_1:
                return 8;
            default:
                throw new IllegalArgumentException("not a 4/5-bit block type: " + type);
        }
    }

    /** The block's 32 fifth bits (bit j: value j's), 0 for the 4-bit types. */
    private static int fifthBits(TensorType type, ByteBuffer src, int p) {
        return type == TensorType.Q5_0 ? src.getInt(p + 2) : type == TensorType.Q5_1 ? src.getInt(p + 4) : 0;
    }

    /** Subtracted from every quant: 8 for Q4_0, 16 for Q5_0, 0 for the types with a minimum. */
    private static int offset(TensorType type) {
        return type == TensorType.Q4_0 ? 8 : type == TensorType.Q5_0 ? 16 : 0;
    }

    /** Value j (0..15) of byte b: its low nibble and fifth bit j of qh. */
    private static int low(int b, int qh, int j) {
        return (b & 0x0F) | ((qh >>> j) & 1) << 4;
    }

    /** Value j + 16 of byte b: its high nibble and fifth bit j + 16 of qh. */
    private static int high(int b, int qh, int j) {
        return (b >>> 4) | ((qh >>> (j + 16)) & 1) << 4;
    }
}
