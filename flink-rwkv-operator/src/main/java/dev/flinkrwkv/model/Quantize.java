package dev.flinkrwkv.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Row encoders of every storage type, the inverse of {@link Dequantize}, rounding exactly as ggml's
 * reference quantizers ({@code quantize_row_*_ref}, which rwkv.cpp's quantizer calls) so that a file
 * quantized here equals rwkv.cpp's byte for byte. The details that decide the bytes:
 * <ul>
 *   <li>Q4_0/Q5_0: the scale is the block's value of largest magnitude (the first one on ties, sign
 *       kept) divided by -8 / -16; quants are {@code (int8)(x/d + 8.5)} (truncation toward zero), clamped
 *       to 15 / 31.</li>
 *   <li>Q4_1/Q5_1: {@code d = (max - min) / 15 or 31}, {@code m = min}; quants are
 *       {@code (int8)((x - min)/d + 0.5)}, clamped to 15 for Q4_1, not clamped (only masked) for Q5_1;
 *       the float min is used, not its half rounding.</li>
 *   <li>Q8_0: {@code d = amax / 127}, quants {@code roundf(x/d)}, which rounds ties away from zero.</li>
 *   <li>Every division by d is a multiplication by {@code id = 1/d} (0 when d is 0), in float; d and m are
 *       stored as half, rounded to nearest even ({@link Half#fromFloat}).</li>
 * </ul>
 * FP16 and BF16 round each value to nearest even; FP32 stores it as is.
 */
public final class Quantize {
    private Quantize() {}

    /**
     * Encodes {@code n} values of {@code x} from {@code off} (n a multiple of the block size) as
     * {@code type} into {@code out} (little-endian) at its position, advancing it by {@code type.bytesFor(n)}.
     */
    public static void row(TensorType type, float[] x, int off, int n, ByteBuffer out) {
        if (out.order() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalArgumentException("model files are little-endian; the output buffer is not");
        }
        switch (type) {
            case FP32:
                out.asFloatBuffer().put(x, off, n); // bulk copy; the view shares out's little-endian order
                out.position(out.position() + 4 * n);
                return;
            case FP16:
                for (int i = 0; i < n; i++) {
                    out.putShort(Half.fromFloat(x[off + i]));
                }
                return;
            case BF16:
                for (int i = 0; i < n; i++) {
                    out.putShort(BFloat16.fromFloat(x[off + i]));
                }
                return;
            default:
                if (n % type.blockElements != 0) {
                    throw new IllegalArgumentException(n + " values do not fill whole " + type + " blocks of "
                            + type.blockElements);
                }
                for (int b = off; b < off + n; b += 32) {
                    block(type, x, b, out);
                }
        }
    }

    private static void block(TensorType type, float[] x, int o, ByteBuffer out) {
        switch (type) {
            case Q4_0:
                symmetric(x, o, out, -8f, 15, false);
                return;
            case Q5_0:
                symmetric(x, o, out, -16f, 31, true);
                return;
            case Q4_1:
                withMin(x, o, out, 15, false);
                return;
            case Q5_1:
                withMin(x, o, out, 31, true);
                return;
            case Q8_0:
                q8(x, o, out);
                return;
            default:
                throw new IllegalArgumentException("not a block type: " + type);
        }
    }

    /** Q4_0 / Q5_0: d from the signed value of largest magnitude, quants offset by -divisor. */
    private static void symmetric(float[] x, int o, ByteBuffer out, float divisor, int maxQ, boolean fiveBits) {
        float amax = 0f, max = 0f;
        for (int j = 0; j < 32; j++) {
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

    /** Q4_1 / Q5_1: d over the block's range, values offset by the block's minimum. */
    private static void withMin(float[] x, int o, ByteBuffer out, int levels, boolean fiveBits) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
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
        // Q4_1 clamps to 15; Q5_1 does not clamp (the 5-bit value is taken as it comes, masked)
        packNibbles(x, o, out, id, min, 0.5f, fiveBits ? Integer.MAX_VALUE : levels, fiveBits);
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

    /** Q8_0: d = amax/127, quants rounded half away from zero. */
    private static void q8(float[] x, int o, ByteBuffer out) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) {
            float a = Math.abs(x[o + j]);
            amax = amax > a ? amax : a;
        }
        float d = amax / 127f;
        float id = d != 0f ? 1.0f / d : 0f;
        out.putShort(Half.fromFloat(d));
        for (int j = 0; j < 32; j++) {
            out.put((byte) roundHalfAwayFromZero(x[o + j] * id));
        }
    }

    /** C's {@code roundf}: to nearest, ties away from zero (Java's Math.round breaks ties upward). */
    static int roundHalfAwayFromZero(float f) {
        float a = Math.abs(f);
        float t = (float) Math.floor(a);
        if (a - t >= 0.5f) { // a - floor(a) is exact in float
            t += 1f;
        }
        return (int) (f < 0 ? -t : t);
    }
}
