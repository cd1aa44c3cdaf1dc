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

    /** Decodes one 32-value block at byte {@code p}. */
    static void block(TensorType type, ByteBuffer src, int p, float[] out, int o) {
        float d = Half.toFloat(src.getShort(p));
        switch (type) {
            case Q4_0:
                for (int j = 0; j < 16; j++) {
                    int q = src.get(p + 2 + j) & 0xFF;
                    out[o + j] = ((q & 0x0F) - 8) * d;
                    out[o + j + 16] = ((q >>> 4) - 8) * d;
                }
                return;
            case Q4_1: {
                float m = Half.toFloat(src.getShort(p + 2));
                for (int j = 0; j < 16; j++) {
                    int q = src.get(p + 4 + j) & 0xFF;
                    out[o + j] = (q & 0x0F) * d + m;
                    out[o + j + 16] = (q >>> 4) * d + m;
                }
                return;
            }
            case Q5_0: {
                int qh = src.getInt(p + 2);
                for (int j = 0; j < 16; j++) {
                    int q = src.get(p + 6 + j) & 0xFF;
                    int lo = (q & 0x0F) | (((qh >>> j) & 1) << 4);
                    int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                    out[o + j] = (lo - 16) * d;
                    out[o + j + 16] = (hi - 16) * d;
                }
                return;
            }
            case Q5_1: {
                float m = Half.toFloat(src.getShort(p + 2));
                int qh = src.getInt(p + 4);
                for (int j = 0; j < 16; j++) {
                    int q = src.get(p + 8 + j) & 0xFF;
                    int lo = (q & 0x0F) | (((qh >>> j) & 1) << 4);
                    int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                    out[o + j] = lo * d + m;
                    out[o + j + 16] = hi * d + m;
                }
                return;
            }
            case Q8_0:
                for (int j = 0; j < 32; j++) {
                    out[o + j] = src.get(p + 2 + j) * d;
                }
                return;
            default:
                throw new IllegalArgumentException("not a block type: " + type);
        }
    }
}
