package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/**
 * The quantized types: blocks of {@value #VALUES} values along a row (a block never crosses a row), each
 * starting with its scale d as a half, then for the types with a minimum ({@link #hasMinimum}) the minimum
 * m as a half. A value decodes to float32 as {@code q*d} or {@code q*d + m}, d and m widened from half
 * first. The encoders round exactly as ggml's reference quantizers ({@code quantize_row_*_ref}, which
 * rwkv.cpp's quantizer calls), so that a file quantized here equals rwkv.cpp's byte for byte; common to
 * all: every division by d is a multiplication by {@code id = 1/d} (0 when d is 0), in float, and d and m
 * are stored as half, rounded to nearest even ({@link Half#fromFloat}).
 */
public abstract sealed class Blocks extends Storage permits Q8_0, NibbleBlocks {
    /** Values per block. */
    public static final int VALUES = 32;

    private final boolean hasMinimum;

    Blocks(String name, int blockBytes, boolean hasMinimum) {
        super(name, VALUES, blockBytes);
        this.hasMinimum = hasMinimum;
    }

    /** Whether a value is {@code q*d + m} (Q4_1, Q5_1): the minimum's half follows the scale's. */
    public final boolean hasMinimum() {
        return hasMinimum;
    }

    @Override
    public final void decode(ByteBuffer src, long pos, int n, float[] out, int off) {
        int p = Math.toIntExact(pos);
        for (int b = 0; b < n / VALUES; b++) {
            decodeBlock(src, p + b * blockBytes, out, off + VALUES * b);
        }
    }

    /**
     * Decodes the block at byte {@code p} into {@code out[o ..]}: written out per type rather than through
     * {@link #quants} and a byte array, as this is the plain-Java kernel's hot loop and the detour through
     * an array cost it much of its speed.
     */
    abstract void decodeBlock(ByteBuffer src, int p, float[] out, int o);

    /**
     * The 32 integer quants q of the block at byte {@code p} into {@code q[o ..]}, any offset the type
     * subtracts already subtracted: between -16 and 31 for the 4/5-bit types, a signed byte for Q8_0.
     */
    public abstract void quants(ByteBuffer src, int p, byte[] q, int o);

    @Override
    final void encodeValues(float[] x, int off, int n, ByteBuffer out) {
        for (int b = off; b < off + n; b += VALUES) {
            encodeBlock(x, b, out);
        }
    }

    /** Encodes the 32 values at {@code x[o ..]} as one block at {@code out}'s position, advancing it. */
    abstract void encodeBlock(float[] x, int o, ByteBuffer out);

    @Override
    public final boolean packs() {
        return true;
    }

    /** One byte per quant, plus a float scale per block of 32 (and a float minimum, for the types with one). */
    @Override
    public final long packedBytes(int rows, int cols) {
        long padded = PackedRows.paddedValues(rows, cols);
        return padded + padded / VALUES * Float.BYTES * (hasMinimum ? 2 : 1);
    }

    @Override
    public final PackedRows.Quants pack(ByteBuffer d, long rowBytes, int rows, int cols) {
        return new PackedRows.Quants(this, d, rowBytes, rows, cols);
    }

    @Override
    public final boolean halvesFinite(ByteBuffer d, long bytes) {
        return halvesFinite(d, bytes, blockBytes, hasMinimum ? 2 : 1);
    }

    /** Whether the first {@code halves} halves of every {@code step} bytes are finite. */
    static boolean halvesFinite(ByteBuffer d, long bytes, int step, int halves) {
        for (long p = 0; p < bytes; p += step) {
            for (int h = 0; h < halves; h++) {
                if ((d.getShort(Math.toIntExact(p + 2 * h)) & 0x7C00) == 0x7C00) {
                    return false;
                }
            }
        }
        return true;
    }
}
