package dev.flinkrwkv.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.nio.ByteBuffer;

import static dev.flinkrwkv.tensor.Lanes.F;
import static dev.flinkrwkv.tensor.Lanes.L;
import static dev.flinkrwkv.tensor.Lanes.LE;

/**
 * float32, stored as is. Packed like the other types ({@link PackedRows.Floats}): four rows multiplied
 * together read the weights faster than one row at a time from the mapped file, and at a speed that does
 * not depend on where the page cache put the file.
 */
public final class Fp32 extends Storage {
    public Fp32() {
        super("FP32", 1, 4);
    }

    @Override
    public void decode(ByteBuffer src, long pos, int n, float[] out, int off) {
        int p = Math.toIntExact(pos);
        for (int i = 0; i < n; i++) {
            out[off + i] = src.getFloat(p + 4 * i);
        }
    }

    @Override
    void encodeValues(float[] x, int off, int n, ByteBuffer out) {
        out.asFloatBuffer().put(x, off, n); // bulk copy; the view shares out's little-endian order
        out.position(out.position() + 4 * n);
    }

    @Override
    public boolean packs() {
        return true;
    }

    /** Four bytes per value. */
    @Override
    public long packedBytes(int rows, int cols) {
        return 4 * PackedRows.paddedValues(rows, cols);
    }

    @Override
    public PackedRows.Floats pack(ByteBuffer d, long rowBytes, int rows, int cols) {
        return new PackedRows.Floats(d, rowBytes, rows, cols);
    }

    @Override
    public VectorKernels vectorKernels() {
        return Vectors.INSTANCE;
    }

    /** Loaded on first use only (see {@link VectorKernels}). */
    private static final class Vectors implements VectorKernels {
        static final Vectors INSTANCE = new Vectors();

        /**
         * The whole range in one method, a unit C2 compiles on its own (see {@link SixteenBit.Vectors#packedDots}),
         * each dot product unrolled by hand, four steps per iteration, the sum's order unchanged. Why unrolled:
         * C2 unrolls a loop only as far as the trip count it has profiled, and the small FP32 matrices of a
         * model (RWKV-7's low-rank projections, 64 values per row) teach it that this loop is short; the head
         * (768+ values per row, a third or more of a step's bytes) then ran a loop with its bounds checks on
         * every vector, well under the bandwidth.
         */
        @Override
        public void dots(ByteBuffer d, long rowBytes, int k, float[] x, int xo, float[] y, int yo, int r0, int r1) {
            int vk = k - k % L;
            for (int n = r0; n < r1; n++) {
                int p = Math.toIntExact(n * rowBytes);
                FloatVector acc = FloatVector.zero(F);
                int i = 0;
                for (; i + 4 * L <= vk; i += 4 * L) {
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * i, LE).fma(FloatVector.fromArray(F, x, xo + i), acc);
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * (i + L), LE).fma(FloatVector.fromArray(F, x, xo + i + L), acc);
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * (i + 2 * L), LE).fma(FloatVector.fromArray(F, x, xo + i + 2 * L), acc);
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * (i + 3 * L), LE).fma(FloatVector.fromArray(F, x, xo + i + 3 * L), acc);
                }
                for (; i < vk; i += L) {
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * i, LE).fma(FloatVector.fromArray(F, x, xo + i), acc);
                }
                float s = acc.reduceLanes(VectorOperators.ADD);
                for (i = vk; i < k; i++) {
                    s += d.getFloat(p + 4 * i) * x[xo + i];
                }
                y[yo + n] = s;
            }
        }

        @Override
        public void decode(ByteBuffer d, int p, int k, float[] w, int wo) {
            int vk = k - k % L;
            for (int i = 0; i < vk; i += L) {
                FloatVector.fromByteBuffer(F, d, p + 4 * i, LE).intoArray(w, wo + i);
            }
            for (int i = vk; i < k; i++) {
                w[wo + i] = d.getFloat(p + 4 * i);
            }
        }

        /**
         * Rows r0 .. r1-1: each whole group of four rows in one pass, four multiply-add chains over one
         * sequential stream, each row summed as {@link #dots} sums it; a row of a group cut by the range on
         * its own ({@link #dotPacked}). One method for the loop nest, as {@link SixteenBit.Vectors#packedDots}.
         */
        @Override
        public void packedDots(PackedRows packed, float[] x, int xo, float[] y, int yo, int r0, int r1) {
            PackedRows.Floats f = (PackedRows.Floats) packed;
            float[] d = f.floats;
            int k = f.cols, vk = k - k % L, step = f.chunkStride();
            for (int n = r0; n < r1; ) {
                if (n % PackedRows.GROUP != 0 || n + PackedRows.GROUP > r1) {
                    y[yo + n] = dotPacked(f, n, x, xo);
                    n++;
                    continue;
                }
                int p = f.chunkAt(n, 0);
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                for (int i = 0; i < vk; i += L, p += step) {
                    FloatVector xv = FloatVector.fromArray(F, x, xo + i);
                    a0 = FloatVector.fromArray(F, d, p).fma(xv, a0);
                    a1 = FloatVector.fromArray(F, d, p + L).fma(xv, a1);
                    a2 = FloatVector.fromArray(F, d, p + 2 * L).fma(xv, a2);
                    a3 = FloatVector.fromArray(F, d, p + 3 * L).fma(xv, a3);
                }
                y[yo + n] = finish(a0.reduceLanes(VectorOperators.ADD), d, p, x, xo, vk, k);
                y[yo + n + 1] = finish(a1.reduceLanes(VectorOperators.ADD), d, p + L, x, xo, vk, k);
                y[yo + n + 2] = finish(a2.reduceLanes(VectorOperators.ADD), d, p + 2 * L, x, xo, vk, k);
                y[yo + n + 3] = finish(a3.reduceLanes(VectorOperators.ADD), d, p + 3 * L, x, xo, vk, k);
                n += PackedRows.GROUP;
            }
        }

        /** Row n alone (a row outside a whole group of the range), summed as {@link #dots} sums it. */
        private static float dotPacked(PackedRows.Floats f, int n, float[] x, int xo) {
            float[] d = f.floats;
            int k = f.cols, vk = k - k % L, step = f.chunkStride();
            int p = f.chunkAt(n, 0);
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < vk; i += L, p += step) {
                acc = FloatVector.fromArray(F, d, p).fma(FloatVector.fromArray(F, x, xo + i), acc);
            }
            return finish(acc.reduceLanes(VectorOperators.ADD), d, p, x, xo, vk, k);
        }

        /** A reduced vector sum {@code s} plus the scalar tail: values vk .. k-1, at {@code d[p ..]} (the last, partial chunk). */
        private static float finish(float s, float[] d, int p, float[] x, int xo, int vk, int k) {
            for (int i = vk; i < k; i++) {
                s += d[p + i - vk] * x[xo + i];
            }
            return s;
        }

        @Override
        public void packedDecode(PackedRows packed, int n, float[] w, int wo) {
            PackedRows.Floats f = (PackedRows.Floats) packed;
            float[] d = f.floats;
            int k = f.cols, vk = k - k % L, step = f.chunkStride();
            int p = f.chunkAt(n, 0);
            for (int i = 0; i < vk; i += L, p += step) {
                FloatVector.fromArray(F, d, p).intoArray(w, wo + i);
            }
            System.arraycopy(d, p, w, wo + vk, k - vk);
        }
    }
}
