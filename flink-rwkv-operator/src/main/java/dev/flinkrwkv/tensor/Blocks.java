package dev.flinkrwkv.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.nio.ByteBuffer;

import static dev.flinkrwkv.tensor.Lanes.F;
import static dev.flinkrwkv.tensor.Lanes.L;
import static dev.flinkrwkv.tensor.Lanes.q8;

/**
 * The quantized types: blocks of {@value #VALUES} values along a row (a block never crosses a row), each
 * starting with its scale d as a half, then for the types with a minimum ({@link #hasMinimum}) the minimum
 * m as a half. A value decodes to float32 as {@code q*d} or {@code q*d + m}, d and m widened from half
 * first; {@code q*d + m} is one fused multiply-add, rounded once, on every path. The encoders round exactly as ggml's reference quantizers ({@code quantize_row_*_ref}, which
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

    /**
     * The vector kernels of the block types: over the heap copy, where every block type is widened to byte
     * quants, scales and minimums ({@link PackedRows.Quants}), one pair of kernels for all; over the mapped
     * file, one per type (a subclass in each type's class): one method per type keeps each compiled unit
     * small enough for C2 to keep every vector in registers.
     */
    abstract static class Vectors extends RowKernels {
        /**
         * As {@link SixteenBit.Vectors#packedDots} (and for the same reason one method holding the whole loop
         * nest), for the block types: values {@code q*d}, or {@code fma(q, d, m)} for Q4_1 and Q5_1, each row
         * summed as the mapped path sums it. The test for a minimum is the same for the whole matrix, so C2
         * can unswitch the loop on it; measured, this ran as fast as two copies of the loop, one per case.
         */
        @Override
        public final void packedDots(PackedRows packed, float[] x, int xo, float[] y, int yo, int r0, int r1) {
            PackedRows.Quants q = (PackedRows.Quants) packed;
            byte[] qs = q.quants;
            float[] sc = q.scales, mn = q.mins;
            int k = q.cols;
            for (int n = r0; n < r1; ) {
                if (n % PackedRows.GROUP != 0 || n + PackedRows.GROUP > r1) {
                    y[yo + n] = dotPacked(q, n, x, xo);
                    n++;
                    continue;
                }
                int b = q.blockAt(n, 0);
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                for (int i = 0; i < k; i += 32, b += PackedRows.GROUP) {
                    float s0 = sc[b], s1 = sc[b + 1], s2 = sc[b + 2], s3 = sc[b + 3];
                    int p = 32 * b;
                    for (int part = 0; part < 32; part += L) {
                        FloatVector xv = FloatVector.fromArray(F, x, xo + i + part);
                        FloatVector w0, w1, w2, w3;
                        if (mn == null) {
                            w0 = q8(qs, p + part, s0);
                            w1 = q8(qs, p + 32 + part, s1);
                            w2 = q8(qs, p + 64 + part, s2);
                            w3 = q8(qs, p + 96 + part, s3);
                        } else {
                            w0 = q8(qs, p + part, s0, mn[b]);
                            w1 = q8(qs, p + 32 + part, s1, mn[b + 1]);
                            w2 = q8(qs, p + 64 + part, s2, mn[b + 2]);
                            w3 = q8(qs, p + 96 + part, s3, mn[b + 3]);
                        }
                        a0 = w0.fma(xv, a0);
                        a1 = w1.fma(xv, a1);
                        a2 = w2.fma(xv, a2);
                        a3 = w3.fma(xv, a3);
                    }
                }
                y[yo + n] = a0.reduceLanes(VectorOperators.ADD);
                y[yo + n + 1] = a1.reduceLanes(VectorOperators.ADD);
                y[yo + n + 2] = a2.reduceLanes(VectorOperators.ADD);
                y[yo + n + 3] = a3.reduceLanes(VectorOperators.ADD);
                n += PackedRows.GROUP;
            }
        }

        /** Row n alone, summed as the mapped path sums it. */
        private static float dotPacked(PackedRows.Quants q, int n, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            int b = q.blockAt(n, 0);
            for (int i = 0; i < q.cols; i += 32, b += PackedRows.GROUP) {
                for (int part = 0; part < 32; part += L) {
                    FloatVector w = q.mins == null ? q8(q.quants, 32 * b + part, q.scales[b])
                            : q8(q.quants, 32 * b + part, q.scales[b], q.mins[b]);
                    acc = w.fma(FloatVector.fromArray(F, x, xo + i + part), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        @Override
        public final void packedDecode(PackedRows packed, int n, float[] w, int wo) {
            PackedRows.Quants q = (PackedRows.Quants) packed;
            int b = q.blockAt(n, 0);
            for (int i = 0; i < q.cols; i += 32, b += PackedRows.GROUP) {
                for (int part = 0; part < 32; part += L) {
                    FloatVector v = q.mins == null ? q8(q.quants, 32 * b + part, q.scales[b])
                            : q8(q.quants, 32 * b + part, q.scales[b], q.mins[b]);
                    v.intoArray(w, wo + i + part);
                }
            }
        }
    }
}
