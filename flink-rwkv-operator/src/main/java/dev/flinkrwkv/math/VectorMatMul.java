package dev.flinkrwkv.math;

import dev.flinkrwkv.tensor.Lanes;
import dev.flinkrwkv.tensor.PackedRows;
import dev.flinkrwkv.tensor.VectorKernels;
import dev.flinkrwkv.tensor.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@code jdk.incubator.vector} kernel: float vectors of the process's {@link VectorWidth} (256 bits, 8
 * lanes, unless 512 is asked for) with fused multiply-add. This class is only loaded when the incubator
 * module is present (see {@link MatMulKernel#get()}), so the plain-Java path works without
 * {@code --add-modules jdk.incubator.vector}.
 *
 * <p>This class holds the batched register tiles and the choice of path; the weights are decoded in
 * registers, one vector at a time, from the mapped little-endian bytes (or their heap copy) by their storage
 * type's {@link VectorKernels}, with the float32 roundings of its scalar decoder, so every path sees exactly
 * the scalar weights. The half decoders assume finite halves; a matrix holding an infinity or NaN among its
 * halves (checked once per matrix, never seen in real weights) is handed to the plain-Java kernel instead.
 *
 * <ul>
 *   <li>Batch 1 (single stream, memory bound): rows that have a heap copy ({@link PackedRows}: every type
 *       by default) four at a time, interleaved, four multiply-add chains over one sequential stream;
 *       other rows (with {@code -Dflinkrwkv.weights=mapped}, or when the heap cannot spare the copy) one at
 *       a time from the mapped file, in storage order, so the weights stream sequentially.
 *   <li>Batch &gt; 1 (compute bound): {@value #BLOCK} rows are decoded into a small per-thread scratch (it
 *       stays in L1/L2), then 4-row x 4-input register tiles compute 16 dot products per load of 4 weight
 *       vectors and 4 input vectors.
 * </ul>
 * Every dot product is accumulated the same way in every path (one vector accumulator over the
 * one-vector steps, lanes reduced, then the scalar tail), so a row of a batch gets the same bits as the same row
 * computed alone: a batch of B keys equals B single steps, from the heap copy or the mapped file alike.
 *
 * <p>Why one accumulator per dot product: a key's bits must not depend on the batch it lands in (a replay
 * after a failure batches keys differently and must give the same bits), so every batch size sums in one
 * order, and the batched tiles, which the operator runs on, are fastest with one accumulator per (row, key)
 * (two per dot product measured markedly slower). A
 * single stream gets its independent chains from several rows instead, which needs the rows interleaved in
 * memory: four rows read from four places in the mapped file defeat the prefetchers.
 */
final class VectorMatMul extends MatMulKernel {
    private static final VectorSpecies<Float> F = Lanes.F;
    private static final int L = Lanes.L;
    /** Rows of the batched register tile. */
    static final int TILE = 4;
    /** Rows decoded together before the batched tiles run over them (a multiple of {@link #TILE}). */
    static final int BLOCK = 16;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    VectorMatMul() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        if (lanes < 8) {
            throw new UnsupportedOperationException("the CPU's preferred float vector has " + lanes
                    + " lanes; this kernel needs 8 (AVX2 or wider)");
        }
        if (lanes < L) {
            System.getLogger(VectorMatMul.class.getName()).log(System.Logger.Level.WARNING, "-D"
                    + VectorWidth.PROPERTY + "=" + VectorWidth.BITS + " asks for vectors wider than the CPU's ("
                    + 32 * lanes + " bits): they are emulated, correct but many times slower");
        }
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    /**
     * Dispatches to one of three paths, each a method of its own: C2 compiles a hot call tree as one unit
     * with a node budget, and vector code is node-hungry; a helper that the budget leaves out (seen:
     * {@code NodeCountInliningCutoff}) is called, and a vector passed to or returned from a call is boxed, an
     * allocation per call. Hence also: helpers that are not leaf decoders take and return floats, and each
     * storage type's single-stream kernels hold their whole loop nest in one method ({@link VectorKernels}).
     */
    @Override
    public void mul(Matrix m, float[] x, int xOff, int xStride, float[] y, int yOff, int yStride,
                    int batch, int r0, int r1) {
        if (!m.finiteHalves()) {
            // An infinity or NaN among the halves (never in real weights): the decoders here assume finite
            // halves, so such a matrix takes the plain-Java kernel, which decodes every half exactly.
            MatMulKernel.scalar().mul(m, x, xOff, xStride, y, yOff, yStride, batch, r0, r1);
            return;
        }
        PackedRows packed = m.packed();
        VectorKernels kernels = m.type().storage.vectorKernels();
        if (batch > 1) {
            batched(m, kernels, packed, x, xOff, xStride, y, yOff, yStride, batch, r0, r1);
        } else if (packed != null) {
            kernels.packedDots(packed, x, xOff, y, yOff, r0, r1);
        } else {
            kernels.dots(m.data(), m.rowBytes(), m.cols(), x, xOff, y, yOff, r0, r1);
        }
    }

    /**
     * Compute-bound: decode BLOCK rows into a per-thread scratch (a long sequential read of the weights,
     * then L1/L2-resident), and multiply them by the inputs in register tiles of 4 rows x 4 inputs (16
     * accumulators: 4x4 tiles measured faster than 4x2).
     */
    private static void batched(Matrix m, VectorKernels kernels, PackedRows packed, float[] x, int xOff, int xStride,
                                float[] y, int yOff, int yStride, int batch, int r0, int r1) {
        int k = m.cols();
        float[] w = scratch(BLOCK * k);
        for (int n0 = r0; n0 < r1; n0 += BLOCK) {
            int rows = Math.min(BLOCK, r1 - n0);
            if (m.floats() != null) {
                // FP32: a bulk copy (memcpy) moves the rows faster than vector loads and stores do
                m.floats().get(n0 * k, w, 0, rows * k);
            } else {
                for (int t = 0; t < rows; t++) {
                    if (packed != null) {
                        kernels.packedDecode(packed, n0 + t, w, t * k);
                    } else {
                        kernels.decode(m.data(), Math.toIntExact((n0 + t) * m.rowBytes()), k, w, t * k);
                    }
                }
            }
            int t = 0;
            for (; t + TILE <= rows; t += TILE) {
                int yo = yOff + n0 + t;
                int b = 0;
                for (; b + 4 <= batch; b += 4) {
                    tile4x4(w, t * k, k, x, xOff + b * xStride, xStride, y, yo + b * yStride, yStride);
                }
                for (; b < batch; b++) {
                    for (int r = 0; r < TILE; r++) {
                        y[yo + b * yStride + r] = dot(w, (t + r) * k, x, xOff + b * xStride, k);
                    }
                }
            }
            for (; t < rows; t++) {
                for (int b = 0; b < batch; b++) {
                    y[yOff + b * yStride + n0 + t] = dot(w, t * k, x, xOff + b * xStride, k);
                }
            }
        }
    }

    private static float[] scratch(int size) {
        float[] w = SCRATCH.get();
        if (w.length < size) {
            w = new float[size];
            SCRATCH.set(w);
        }
        return w;
    }

    // ---- dot products over decoded rows: one accumulator per (row, input), then the scalar tail

    static float dot(float[] w, int wo, float[] x, int xo, int k) {
        int vk = k - k % L;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < vk; i += L) {
            acc = FloatVector.fromArray(F, w, wo + i).fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (int i = vk; i < k; i++) {
            s += w[wo + i] * x[xo + i];
        }
        return s;
    }

    /**
     * Four decoded rows (at {@code wo}, {@code wo + k}, ..) times four inputs ({@code xs} apart): sixteen
     * dot products, written to {@code y[yo + b*ys + r]}. Each is summed exactly as {@link #dot} sums it.
     */
    private static void tile4x4(float[] w, int wo, int k, float[] x, int xo, int xs, float[] y, int yo, int ys) {
        int vk = k - k % L;
        int x0 = xo, x1 = xo + xs, x2 = xo + 2 * xs, x3 = xo + 3 * xs;
        int w0 = wo, w1 = wo + k, w2 = wo + 2 * k, w3 = wo + 3 * k;
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        for (int i = 0; i < vk; i += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + i);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + i);
            FloatVector v3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = FloatVector.fromArray(F, w, w0 + i);
            a00 = r.fma(v0, a00);
            a01 = r.fma(v1, a01);
            a02 = r.fma(v2, a02);
            a03 = r.fma(v3, a03);
            r = FloatVector.fromArray(F, w, w1 + i);
            a10 = r.fma(v0, a10);
            a11 = r.fma(v1, a11);
            a12 = r.fma(v2, a12);
            a13 = r.fma(v3, a13);
            r = FloatVector.fromArray(F, w, w2 + i);
            a20 = r.fma(v0, a20);
            a21 = r.fma(v1, a21);
            a22 = r.fma(v2, a22);
            a23 = r.fma(v3, a23);
            r = FloatVector.fromArray(F, w, w3 + i);
            a30 = r.fma(v0, a30);
            a31 = r.fma(v1, a31);
            a32 = r.fma(v2, a32);
            a33 = r.fma(v3, a33);
        }
        y[yo] = finish(a00.reduceLanes(VectorOperators.ADD), w, w0, x, x0, vk, k);
        y[yo + ys] = finish(a01.reduceLanes(VectorOperators.ADD), w, w0, x, x1, vk, k);
        y[yo + 2 * ys] = finish(a02.reduceLanes(VectorOperators.ADD), w, w0, x, x2, vk, k);
        y[yo + 3 * ys] = finish(a03.reduceLanes(VectorOperators.ADD), w, w0, x, x3, vk, k);
        y[yo + 1] = finish(a10.reduceLanes(VectorOperators.ADD), w, w1, x, x0, vk, k);
        y[yo + 1 + ys] = finish(a11.reduceLanes(VectorOperators.ADD), w, w1, x, x1, vk, k);
        y[yo + 1 + 2 * ys] = finish(a12.reduceLanes(VectorOperators.ADD), w, w1, x, x2, vk, k);
        y[yo + 1 + 3 * ys] = finish(a13.reduceLanes(VectorOperators.ADD), w, w1, x, x3, vk, k);
        y[yo + 2] = finish(a20.reduceLanes(VectorOperators.ADD), w, w2, x, x0, vk, k);
        y[yo + 2 + ys] = finish(a21.reduceLanes(VectorOperators.ADD), w, w2, x, x1, vk, k);
        y[yo + 2 + 2 * ys] = finish(a22.reduceLanes(VectorOperators.ADD), w, w2, x, x2, vk, k);
        y[yo + 2 + 3 * ys] = finish(a23.reduceLanes(VectorOperators.ADD), w, w2, x, x3, vk, k);
        y[yo + 3] = finish(a30.reduceLanes(VectorOperators.ADD), w, w3, x, x0, vk, k);
        y[yo + 3 + ys] = finish(a31.reduceLanes(VectorOperators.ADD), w, w3, x, x1, vk, k);
        y[yo + 3 + 2 * ys] = finish(a32.reduceLanes(VectorOperators.ADD), w, w3, x, x2, vk, k);
        y[yo + 3 + 3 * ys] = finish(a33.reduceLanes(VectorOperators.ADD), w, w3, x, x3, vk, k);
    }

    /** A reduced vector sum {@code s} plus the scalar tail, values vk .. k-1. */
    private static float finish(float s, float[] w, int wo, float[] x, int xo, int vk, int k) {
        for (int i = vk; i < k; i++) {
            s += w[wo + i] * x[xo + i];
        }
        return s;
    }
}
