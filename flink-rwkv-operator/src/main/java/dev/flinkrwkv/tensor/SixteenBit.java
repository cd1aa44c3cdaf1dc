package dev.flinkrwkv.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.nio.ByteBuffer;

import static dev.flinkrwkv.tensor.Lanes.F;
import static dev.flinkrwkv.tensor.Lanes.L;
import static dev.flinkrwkv.tensor.Lanes.wide;
import static dev.flinkrwkv.tensor.Lanes.wideVector;

/** The 16-bit float types, FP16 and BF16: one value in 2 bytes. */
public abstract sealed class SixteenBit extends Storage permits Fp16, Bf16 {
    SixteenBit(String name) {
        super(name, 1, 2);
    }

    /** The float value of the 16 bits {@code h}, exactly. */
    abstract float toFloat(short h);

    /** {@code f} rounded to the type, to nearest even. */
    abstract short fromFloat(float f);

    @Override
    public final boolean packs() {
        return true;
    }

    /** Two bytes per value: the 16 bits as stored. */
    @Override
    public final long packedBytes(int rows, int cols) {
        return 2 * PackedRows.paddedValues(rows, cols);
    }

    @Override
    public final PackedRows.Halves pack(ByteBuffer d, long rowBytes, int rows, int cols) {
        return new PackedRows.Halves(this, d, rowBytes, rows, cols);
    }

    @Override
    public final void decode(ByteBuffer src, long pos, int n, float[] out, int off) {
        int p = Math.toIntExact(pos);
        for (int i = 0; i < n; i++) {
            out[off + i] = toFloat(src.getShort(p + 2 * i));
        }
    }

    @Override
    final void encodeValues(float[] x, int off, int n, ByteBuffer out) {
        for (int i = 0; i < n; i++) {
            out.putShort(fromFloat(x[off + i]));
        }
    }

    /**
     * The vector kernels of a 16-bit float type, which widens to float in three exact operations on its
     * sign-extended bits: shifted left, masked, multiplied ({@link Fp16} and {@link Bf16} say which and why
     * each is exact). One class with the three constants as fields serves both types, so each path has one
     * loop nest for both; for BF16 it spends an AND and a multiplication it does not need, the operations
     * FP16 needs. The constants are read into locals before each loop, where they stay in registers.
     */
    static final class Vectors extends RowKernels {
        private final int shift;
        private final int mask;
        private final float scale;

        Vectors(int shift, int mask, float scale) {
            this.shift = shift;
            this.mask = mask;
            this.scale = scale;
        }

        @Override
        float dotRow(ByteBuffer d, int p, int k, float[] x, int xo) {
            int vk = k - k % L, sh = shift, mk = mask;
            float sc = scale;
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < vk; i += L) {
                acc = wideVector(d, p + 2 * i, sh, mk, sc).fma(FloatVector.fromArray(F, x, xo + i), acc);
            }
            float s = acc.reduceLanes(VectorOperators.ADD);
            for (int i = vk; i < k; i++) {
                s += wide(d.getShort(p + 2 * i), sh, mk, sc) * x[xo + i];
            }
            return s;
        }

        @Override
        public void decode(ByteBuffer d, int p, int k, float[] w, int wo) {
            int vk = k - k % L, sh = shift, mk = mask;
            float sc = scale;
            for (int i = 0; i < vk; i += L) {
                wideVector(d, p + 2 * i, sh, mk, sc).intoArray(w, wo + i);
            }
            for (int i = vk; i < k; i++) {
                w[wo + i] = wide(d.getShort(p + 2 * i), sh, mk, sc);
            }
        }

        /*
         * packedDots here and in Blocks.Vectors (and Fp32's dots) each hold their path's whole loop nest
         * (groups of rows, then the chunks of a row) on purpose: the method's bytecode is then larger than
         * C2's limit for inlining a hot callee (FreqInlineSize, 325 bytes), so it is compiled as a unit of its
         * own, with the full node budget for its vector code. When the group kernel was a small method of its
         * own, C2 inlined it into the evaluator's methods (RWKV-7's low-rank projections call it twice, with
         * their tanh and sigmoid loops around), ran past its node budget (NodeCountInliningCutoff) there, and
         * left some vector operations as calls on boxed vectors: an FP16 model's single stream ran at a
         * fraction of its speed, depending on which method the JIT compiled first.
         */

        /**
         * Rows r0 .. r1-1: each whole group of four rows in one pass, four multiply-add chains over one
         * sequential stream, each row summed as {@link #dotRow} sums it; a row of a group cut by the range
         * on its own ({@link #dotPacked}).
         */
        @Override
        public void packedDots(PackedRows packed, float[] x, int xo, float[] y, int yo, int r0, int r1) {
            PackedRows.Halves h = (PackedRows.Halves) packed;
            short[] d = h.halves;
            int k = h.cols, vk = k - k % L, step = h.chunkStride();
            int sh = shift, mk = mask;
            float sc = scale;
            for (int n = r0; n < r1; ) {
                if (n % PackedRows.GROUP != 0 || n + PackedRows.GROUP > r1) {
                    y[yo + n] = dotPacked(h, n, x, xo);
                    n++;
                    continue;
                }
                int p = h.chunkAt(n, 0);
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                for (int i = 0; i < vk; i += L, p += step) {
                    FloatVector xv = FloatVector.fromArray(F, x, xo + i);
                    a0 = wideVector(d, p, sh, mk, sc).fma(xv, a0);
                    a1 = wideVector(d, p + L, sh, mk, sc).fma(xv, a1);
                    a2 = wideVector(d, p + 2 * L, sh, mk, sc).fma(xv, a2);
                    a3 = wideVector(d, p + 3 * L, sh, mk, sc).fma(xv, a3);
                }
                y[yo + n] = finish(a0.reduceLanes(VectorOperators.ADD), d, p, x, xo, vk, k);
                y[yo + n + 1] = finish(a1.reduceLanes(VectorOperators.ADD), d, p + L, x, xo, vk, k);
                y[yo + n + 2] = finish(a2.reduceLanes(VectorOperators.ADD), d, p + 2 * L, x, xo, vk, k);
                y[yo + n + 3] = finish(a3.reduceLanes(VectorOperators.ADD), d, p + 3 * L, x, xo, vk, k);
                n += PackedRows.GROUP;
            }
        }

        /** Row n alone (a row outside a whole group of the range), summed as {@link #dotRow} sums it. */
        private float dotPacked(PackedRows.Halves h, int n, float[] x, int xo) {
            short[] d = h.halves;
            int k = h.cols, vk = k - k % L, step = h.chunkStride();
            int sh = shift, mk = mask;
            float sc = scale;
            int p = h.chunkAt(n, 0);
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < vk; i += L, p += step) {
                acc = wideVector(d, p, sh, mk, sc).fma(FloatVector.fromArray(F, x, xo + i), acc);
            }
            return finish(acc.reduceLanes(VectorOperators.ADD), d, p, x, xo, vk, k);
        }

        /** A reduced vector sum {@code s} plus the scalar tail: values vk .. k-1, at {@code d[p ..]} (the last, partial chunk). */
        private float finish(float s, short[] d, int p, float[] x, int xo, int vk, int k) {
            for (int i = vk; i < k; i++) {
                s += wide(d[p + i - vk], shift, mask, scale) * x[xo + i];
            }
            return s;
        }

        @Override
        public void packedDecode(PackedRows packed, int n, float[] w, int wo) {
            PackedRows.Halves h = (PackedRows.Halves) packed;
            short[] d = h.halves;
            int k = h.cols, vk = k - k % L, step = h.chunkStride();
            int sh = shift, mk = mask;
            float sc = scale;
            int p = h.chunkAt(n, 0);
            for (int i = 0; i < vk; i += L, p += step) {
                wideVector(d, p, sh, mk, sc).intoArray(w, wo + i);
            }
            for (int i = vk; i < k; i++) {
                w[wo + i] = wide(d[p + i - vk], sh, mk, sc);
            }
        }
    }
}
