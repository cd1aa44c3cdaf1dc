package dev.flinkrwkv.math;

import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.tensor.PackedRows;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The {@code jdk.incubator.vector} kernel: 8-lane (256-bit) float vectors with fused multiply-add. This
 * class is only loaded when the incubator module is present (see {@link MatMulKernel#get()}), so the
 * plain-Java path works without {@code --add-modules jdk.incubator.vector}.
 *
 * <p>Weights are decoded in registers, 8 values at a time, from the mapped little-endian bytes (or their heap
 * copy):
 * FP32 as is, FP16 by moving the half's exponent and mantissa into float position (exact, subnormals
 * included), BF16 by moving its 16 bits into the top of a float ({@link Widening}), quantized blocks as
 * {@code q*d} or {@code q*d + m} with the same float32 roundings as {@link dev.flinkrwkv.tensor.Storage#decode},
 * so every path sees exactly the scalar weights. The half decoders assume finite halves (BF16 has none); a
 * matrix holding an infinity or NaN among its halves (checked once per matrix, never seen in real weights)
 * is handed to the plain-Java kernel instead.
 *
 * <ul>
 *   <li>Batch 1 (single stream, memory bound): rows that have a heap copy ({@link PackedRows}: every type
 *       but FP32 by default) four at a time, interleaved, four multiply-add chains over one sequential
 *       stream; other rows (FP32, or with {@code -Dflinkrwkv.weights=mapped}) one at a time from the mapped
 *       file, in storage order, so the weights stream sequentially.
 *   <li>Batch &gt; 1 (compute bound): {@value #BLOCK} rows are decoded into a small per-thread scratch (it
 *       stays in L1/L2), then 4-row x 4-input register tiles compute 16 dot products per load of 4 weight
 *       vectors and 4 input vectors.
 * </ul>
 * Every dot product is accumulated the same way in every path (one vector accumulator over the 8-value
 * steps, lanes reduced, then the scalar tail), so a row of a batch gets the same bits as the same row
 * computed alone: a batch of B keys equals B single steps, from the heap copy or the mapped file alike.
 *
 * <p>Why one accumulator per dot product: a key's bits must not depend on the batch it lands in (a replay
 * after a failure batches keys differently and must give the same bits), so every batch size sums in one
 * order, and the batched tiles, which the operator runs on, are fastest with one accumulator per (row, key)
 * (two per dot product ran 30-50% slower here; so did 512-bit vectors, the same order in one register). A
 * single stream gets its independent chains from several rows instead, which needs the rows interleaved in
 * memory: four rows read from four places in the mapped file defeat the prefetchers.
 */
final class VectorMatMul extends MatMulKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final int L = 8;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows of the batched register tile. */
    static final int TILE = 4;
    /** Rows decoded together before the batched tiles run over them (a multiple of {@link #TILE}). */
    static final int BLOCK = 16;
    /** 0, 1, .., 7: lane j of part p of a block holds value 8p + j, whose Q5 high bit is bit 8p + j of qh. */
    private static final IntVector LANE = IntVector.zero(I).addIndex(1);

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    VectorMatMul() {
        if (FloatVector.SPECIES_PREFERRED.length() < L) {
            throw new UnsupportedOperationException("the CPU's preferred float vector has "
                    + FloatVector.SPECIES_PREFERRED.length() + " lanes; this kernel needs 8 (AVX2 or wider)");
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
     * allocation per call. Hence also: helpers below that are not leaf decoders take and return floats.
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
        if (batch > 1) {
            batched(m, packed, x, xOff, xStride, y, yOff, yStride, batch, r0, r1);
        } else if (packed instanceof PackedRows.Halves h) {
            packedDots16(h, x, xOff, y, yOff, r0, r1);
        } else if (packed instanceof PackedRows.Quants q) {
            packedDotsQuants(q, x, xOff, y, yOff, r0, r1);
        } else if (m.type() == TensorType.FP32) {
            mappedDotsFp32(m, x, xOff, y, yOff, r0, r1);
        } else {
            mappedDots(m, x, xOff, y, yOff, r0, r1);
        }
    }

    /**
     * Batch 1 from the mapped file: one row at a time, in storage order, so the whole slice of the matrix is
     * read as one sequential stream, which the hardware prefetchers follow at full bandwidth. Interleaving
     * several rows in one loop (more independent multiply-add chains) measured at half the bandwidth here:
     * 12.5 GB/s for four rows against 19-26 GB/s for one (AMD EPYC, one core); rows interleaved in the
     * storage itself are one stream again ({@link PackedRows}). FP32 rows take {@link #mappedDotsFp32}.
     */
    private static void mappedDots(Matrix m, float[] x, int xo, float[] y, int yo, int r0, int r1) {
        TensorType type = m.type();
        ByteBuffer data = m.data();
        long rowBytes = m.rowBytes();
        int k = m.cols();
        for (int n = r0; n < r1; n++) {
            y[yo + n] = dotRow(type, data, Math.toIntExact(n * rowBytes), k, x, xo);
        }
    }

    /**
     * Compute-bound: decode BLOCK rows into a per-thread scratch (a long sequential read of the weights,
     * then L1/L2-resident), and multiply them by the inputs in register tiles of 4 rows x 4 inputs (16
     * accumulators: 4x2 tiles ran at 69 GFLOP/s on one core here, 4x4 at 87-98).
     */
    private static void batched(Matrix m, PackedRows packed, float[] x, int xOff, int xStride,
                                float[] y, int yOff, int yStride, int batch, int r0, int r1) {
        TensorType type = m.type();
        int k = m.cols();
        float[] w = scratch(BLOCK * k);
        for (int n0 = r0; n0 < r1; n0 += BLOCK) {
            int rows = Math.min(BLOCK, r1 - n0);
            if (type == TensorType.FP32) {
                // a bulk copy (memcpy) moves FP32 rows at ~16 GB/s here; vector loads and stores at ~10
                m.floats().get(n0 * k, w, 0, rows * k);
            } else {
                for (int t = 0; t < rows; t++) {
                    if (packed != null) {
                        decodePackedRow(packed, n0 + t, w, t * k);
                    } else {
                        decodeRow(type, m.data(), Math.toIntExact((n0 + t) * m.rowBytes()), k, w, t * k);
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

    /** One vector accumulator per sum over the 8-value chunks, lanes reduced, then the scalar tail. */
    @Override
    public void rowDots2(float[] s, int so, int rows, int n, float[] u, float[] v, int uo,
                         float[] outU, float[] outV, int oo) {
        int vn = n - n % L;
        for (int r = 0; r < rows; r++) {
            int row = so + r * n;
            FloatVector au = FloatVector.zero(F), av = FloatVector.zero(F);
            for (int j = 0; j < vn; j += L) {
                FloatVector x = FloatVector.fromArray(F, s, row + j);
                au = x.fma(FloatVector.fromArray(F, u, uo + j), au);
                av = x.fma(FloatVector.fromArray(F, v, uo + j), av);
            }
            float su = au.reduceLanes(VectorOperators.ADD), sv = av.reduceLanes(VectorOperators.ADD);
            for (int j = vn; j < n; j++) {
                su += s[row + j] * u[uo + j];
                sv += s[row + j] * v[uo + j];
            }
            outU[oo + r] = su;
            outV[oo + r] = sv;
        }
    }

    /** In place, 8 values at a time, with the plain-Java kernel's roundings (no fused multiply-add). */
    @Override
    public void rowUpdates(float[] s, int so, int rows, int n, float[] w, float[] k, float[] b, int uo,
                           float[] v, int vo, float[] sa, int ao) {
        int vn = n - n % L;
        for (int i = 0; i < rows; i++) {
            int row = so + i * n;
            float vi = v[vo + i], si = sa[ao + i];
            for (int j = 0; j < vn; j += L) {
                FloatVector x = FloatVector.fromArray(F, s, row + j).mul(FloatVector.fromArray(F, w, uo + j));
                x = x.add(FloatVector.fromArray(F, k, uo + j).mul(vi));
                x.sub(FloatVector.fromArray(F, b, uo + j).mul(si)).intoArray(s, row + j);
            }
            for (int j = vn; j < n; j++) {
                s[row + j] = (s[row + j] * w[uo + j] + vi * k[uo + j]) - si * b[uo + j];
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

    // ---- one row decoded and multiplied in one pass (batch 1); one method per type keeps each
    //      compiled unit small enough for C2 to keep every vector in registers

    static float dotRow(TensorType type, ByteBuffer d, int p, int k, float[] x, int xo) {
        switch (type) {
            case FP16:
                return dotRow16(d, p, k, x, xo, Widening.FP16);
            case BF16:
                return dotRow16(d, p, k, x, xo, Widening.BF16);
            case Q8_0:
                return dotRowQ80(d, p, k, x, xo);
            case Q4_0:
                return dotRowQ40(d, p, k, x, xo);
            case Q4_1:
                return dotRowQ41(d, p, k, x, xo);
            case Q5_0:
                return dotRowQ50(d, p, k, x, xo);
            case Q5_1:
                return dotRowQ51(d, p, k, x, xo);
            default:
                throw new IllegalArgumentException("unsupported type " + type);
        }
    }

    /**
     * FP32 rows from the mapped file, the whole range in one method (a unit C2 compiles on its own: see the
     * note above {@link #packedDots16}), each dot product unrolled by hand, four steps per iteration, the
     * sum's order unchanged. Why unrolled: C2 unrolls a loop only as far as the trip count it has profiled,
     * and the small FP32 matrices of a model (RWKV-7's low-rank projections, 64 values per row) teach it
     * that this loop is short; the head (768+ values per row, a third or more of a step's bytes) then ran a
     * loop with its bounds checks on every 8 values, at 13-14 GB/s instead of 21-24 (v7 0.1B Q8_0 file,
     * batch 1: 35-40 tokens/s before, 51-55 after).
     */
    private static void mappedDotsFp32(Matrix m, float[] x, int xo, float[] y, int yo, int r0, int r1) {
        ByteBuffer d = m.data();
        int k = m.cols(), vk = k - k % L;
        for (int n = r0; n < r1; n++) {
            int p = Math.toIntExact(n * m.rowBytes());
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i + 4 * L <= vk; i += 4 * L) {
                acc = FloatVector.fromByteBuffer(F, d, p + 4 * i, LE).fma(FloatVector.fromArray(F, x, xo + i), acc);
                acc = FloatVector.fromByteBuffer(F, d, p + 4 * i + 32, LE).fma(FloatVector.fromArray(F, x, xo + i + L), acc);
                acc = FloatVector.fromByteBuffer(F, d, p + 4 * i + 64, LE).fma(FloatVector.fromArray(F, x, xo + i + 2 * L), acc);
                acc = FloatVector.fromByteBuffer(F, d, p + 4 * i + 96, LE).fma(FloatVector.fromArray(F, x, xo + i + 3 * L), acc);
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

    /** An FP16 or BF16 row. */
    private static float dotRow16(ByteBuffer d, int p, int k, float[] x, int xo, Widening wd) {
        int vk = k - k % L, sh = wd.shift, mk = wd.mask;
        float sc = wd.scale;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < vk; i += L) {
            acc = wide8(d, p + 2 * i, sh, mk, sc).fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (int i = vk; i < k; i++) {
            s += wide(d.getShort(p + 2 * i), sh, mk, sc) * x[xo + i];
        }
        return s;
    }

    private static float dotRowQ80(ByteBuffer d, int p, int k, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < k; i += 32, p += 34) {
            float sc = half(d, p);
            for (int part = 0; part < 32; part += 8) {
                acc = q8(d, p + 2 + part, sc).fma(FloatVector.fromArray(F, x, xo + i + part), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static float dotRowQ40(ByteBuffer d, int p, int k, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < k; i += 32, p += 18) {
            float sc = half(d, p);
            ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 2, LE);
            for (int part = 0; part < 4; part++) {
                acc = floats(q4(qs, part, 8))
                        .mul(sc).fma(FloatVector.fromArray(F, x, xo + i + 8 * part), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static float dotRowQ41(ByteBuffer d, int p, int k, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < k; i += 32, p += 20) {
            float sc = half(d, p);
            float mn = half(d, p + 2);
            ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 4, LE);
            for (int part = 0; part < 4; part++) {
                acc = floats(q4(qs, part, 0))
                        .mul(sc).add(mn).fma(FloatVector.fromArray(F, x, xo + i + 8 * part), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static float dotRowQ50(ByteBuffer d, int p, int k, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < k; i += 32, p += 22) {
            float sc = half(d, p);
            int qh = d.getInt(p + 2);
            ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 6, LE);
            for (int part = 0; part < 4; part++) {
                acc = floats(q5(qs, qh, part, 16))
                        .mul(sc).fma(FloatVector.fromArray(F, x, xo + i + 8 * part), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static float dotRowQ51(ByteBuffer d, int p, int k, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < k; i += 32, p += 24) {
            float sc = half(d, p);
            float mn = half(d, p + 2);
            int qh = d.getInt(p + 4);
            ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 8, LE);
            for (int part = 0; part < 4; part++) {
                acc = floats(q5(qs, qh, part, 0))
                        .mul(sc).add(mn).fma(FloatVector.fromArray(F, x, xo + i + 8 * part), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // ---- batch 1 over rows packed on the heap: four rows (four chains) in one sequential stream

    /*
     * Each of the two methods below (and mappedDotsFp32) holds its path's whole loop nest (groups of rows,
     * then the chunks of a row) on purpose: its bytecode is then larger than C2's limit for inlining a hot
     * callee (FreqInlineSize, 325 bytes), so it is compiled as a unit of its own, with the full node budget
     * for its vector code. When the group kernel was a small method of its own, C2 inlined it into the
     * evaluator's methods (RWKV-7's low-rank projections call it twice, with their tanh and sigmoid loops
     * around), ran past its node budget (NodeCountInliningCutoff) there, and left some vector operations as
     * calls on boxed vectors: an FP16 model's single stream ran at 18-64 tokens/s depending on which method
     * the JIT compiled first.
     */

    /**
     * Rows r0 .. r1-1: each whole group of four rows in one pass, four multiply-add chains over one
     * sequential stream, each row summed as {@link #dotRow16} sums it; a row of a group cut by the range
     * on its own ({@link #dotPacked16}). FP16 and BF16 alike ({@link Widening}).
     */
    private static void packedDots16(PackedRows.Halves h, float[] x, int xo, float[] y, int yo, int r0, int r1) {
        short[] d = h.halves;
        int k = h.cols, vk = k - k % L, step = h.chunkStride();
        Widening wd = Widening.of(h.type == TensorType.BF16.storage ? TensorType.BF16 : TensorType.FP16);
        int sh = wd.shift, mk = wd.mask;
        float sc = wd.scale;
        for (int n = r0; n < r1; ) {
            if (n % PackedRows.GROUP != 0 || n + PackedRows.GROUP > r1) {
                y[yo + n] = dotPacked16(h, n, x, xo);
                n++;
                continue;
            }
            int p = h.chunkAt(n, 0);
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int i = 0; i < vk; i += L, p += step) {
                FloatVector xv = FloatVector.fromArray(F, x, xo + i);
                a0 = wide8(d, p, sh, mk, sc).fma(xv, a0);
                a1 = wide8(d, p + L, sh, mk, sc).fma(xv, a1);
                a2 = wide8(d, p + 2 * L, sh, mk, sc).fma(xv, a2);
                a3 = wide8(d, p + 3 * L, sh, mk, sc).fma(xv, a3);
            }
            y[yo + n] = finish16(a0.reduceLanes(VectorOperators.ADD), d, p, x, xo, vk, k, wd);
            y[yo + n + 1] = finish16(a1.reduceLanes(VectorOperators.ADD), d, p + L, x, xo, vk, k, wd);
            y[yo + n + 2] = finish16(a2.reduceLanes(VectorOperators.ADD), d, p + 2 * L, x, xo, vk, k, wd);
            y[yo + n + 3] = finish16(a3.reduceLanes(VectorOperators.ADD), d, p + 3 * L, x, xo, vk, k, wd);
            n += PackedRows.GROUP;
        }
    }

    /**
     * As {@link #packedDots16}, for the block types: values {@code q*d}, or {@code q*d + m} for Q4_1 and
     * Q5_1, each row summed as the mapped path ({@link #dotRowQ80}, {@link #dotRowQ40}, ..) sums it. The
     * test for a minimum is the same for the whole matrix, so C2 can unswitch the loop on it; measured, this
     * ran as fast as two copies of the loop, one per case.
     */
    private static void packedDotsQuants(PackedRows.Quants q, float[] x, int xo, float[] y, int yo, int r0, int r1) {
        byte[] qs = q.quants;
        float[] sc = q.scales, mn = q.mins;
        int k = q.cols;
        for (int n = r0; n < r1; ) {
            if (n % PackedRows.GROUP != 0 || n + PackedRows.GROUP > r1) {
                y[yo + n] = dotPackedQuants(q, n, x, xo);
                n++;
                continue;
            }
            int b = q.blockAt(n, 0);
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int i = 0; i < k; i += 32, b += PackedRows.GROUP) {
                float s0 = sc[b], s1 = sc[b + 1], s2 = sc[b + 2], s3 = sc[b + 3];
                int p = 32 * b;
                for (int part = 0; part < 32; part += 8) {
                    FloatVector xv = FloatVector.fromArray(F, x, xo + i + part);
                    FloatVector w0 = q8(qs, p + part, s0), w1 = q8(qs, p + 32 + part, s1);
                    FloatVector w2 = q8(qs, p + 64 + part, s2), w3 = q8(qs, p + 96 + part, s3);
                    if (mn != null) {
                        w0 = w0.add(mn[b]);
                        w1 = w1.add(mn[b + 1]);
                        w2 = w2.add(mn[b + 2]);
                        w3 = w3.add(mn[b + 3]);
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

    /** Row n alone (a row outside a whole group of the range), summed as {@link #dotRow16} sums it. */
    private static float dotPacked16(PackedRows.Halves h, int n, float[] x, int xo) {
        short[] d = h.halves;
        int k = h.cols, vk = k - k % L, step = h.chunkStride();
        Widening wd = Widening.of(h.type == TensorType.BF16.storage ? TensorType.BF16 : TensorType.FP16);
        int sh = wd.shift, mk = wd.mask;
        float sc = wd.scale;
        int p = h.chunkAt(n, 0);
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < vk; i += L, p += step) {
            acc = wide8(d, p, sh, mk, sc).fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        return finish16(acc.reduceLanes(VectorOperators.ADD), d, p, x, xo, vk, k, wd);
    }

    /** A reduced vector sum {@code s} plus the scalar tail: values vk .. k-1, at {@code d[p ..]} (the last, partial chunk). */
    private static float finish16(float s, short[] d, int p, float[] x, int xo, int vk, int k, Widening wd) {
        for (int i = vk; i < k; i++) {
            s += wide(d[p + i - vk], wd.shift, wd.mask, wd.scale) * x[xo + i];
        }
        return s;
    }

    /** Row n alone, summed as the mapped path sums it. */
    private static float dotPackedQuants(PackedRows.Quants q, int n, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        int b = q.blockAt(n, 0);
        for (int i = 0; i < q.cols; i += 32, b += PackedRows.GROUP) {
            for (int part = 0; part < 32; part += 8) {
                FloatVector w = q8(q.quants, 32 * b + part, q.scales[b]);
                if (q.mins != null) {
                    w = w.add(q.mins[b]);
                }
                acc = w.fma(FloatVector.fromArray(F, x, xo + i + part), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // ---- one packed row decoded into floats (batch > 1)

    static void decodePackedRow(PackedRows p, int n, float[] w, int wo) {
        if (p instanceof PackedRows.Halves h) {
            decodePacked16(h, n, w, wo);
        } else {
            decodePackedQuants((PackedRows.Quants) p, n, w, wo);
        }
    }

    private static void decodePacked16(PackedRows.Halves h, int n, float[] w, int wo) {
        short[] d = h.halves;
        int k = h.cols, vk = k - k % L, step = h.chunkStride();
        Widening wd = Widening.of(h.type == TensorType.BF16.storage ? TensorType.BF16 : TensorType.FP16);
        int sh = wd.shift, mk = wd.mask;
        float sc = wd.scale;
        int p = h.chunkAt(n, 0);
        for (int i = 0; i < vk; i += L, p += step) {
            wide8(d, p, sh, mk, sc).intoArray(w, wo + i);
        }
        for (int i = vk; i < k; i++) {
            w[wo + i] = wide(d[p + i - vk], sh, mk, sc);
        }
    }

    private static void decodePackedQuants(PackedRows.Quants q, int n, float[] w, int wo) {
        int b = q.blockAt(n, 0);
        for (int i = 0; i < q.cols; i += 32, b += PackedRows.GROUP) {
            for (int part = 0; part < 32; part += 8) {
                FloatVector v = q8(q.quants, 32 * b + part, q.scales[b]);
                if (q.mins != null) {
                    v = v.add(q.mins[b]);
                }
                v.intoArray(w, wo + i + part);
            }
        }
    }

    // ---- one row decoded into floats (batch > 1)

    static void decodeRow(TensorType type, ByteBuffer d, int p, int k, float[] w, int wo) {
        switch (type) {
            case FP32:
                decodeRowFp32(d, p, k, w, wo);
                return;
            case FP16:
                decodeRow16(d, p, k, w, wo, Widening.FP16);
                return;
            case BF16:
                decodeRow16(d, p, k, w, wo, Widening.BF16);
                return;
            case Q8_0:
                decodeRowQ80(d, p, k, w, wo);
                return;
            case Q4_0:
                decodeRowQ40(d, p, k, w, wo);
                return;
            case Q4_1:
                decodeRowQ41(d, p, k, w, wo);
                return;
            case Q5_0:
                decodeRowQ50(d, p, k, w, wo);
                return;
            case Q5_1:
                decodeRowQ51(d, p, k, w, wo);
                return;
            default:
                throw new IllegalArgumentException("unsupported type " + type);
        }
    }

    private static void decodeRowFp32(ByteBuffer d, int p, int k, float[] w, int wo) {
        int vk = k - k % L;
        for (int i = 0; i < vk; i += L) {
            FloatVector.fromByteBuffer(F, d, p + 4 * i, LE).intoArray(w, wo + i);
        }
        for (int i = vk; i < k; i++) {
            w[wo + i] = d.getFloat(p + 4 * i);
        }
    }

    private static void decodeRow16(ByteBuffer d, int p, int k, float[] w, int wo, Widening wd) {
        int vk = k - k % L, sh = wd.shift, mk = wd.mask;
        float sc = wd.scale;
        for (int i = 0; i < vk; i += L) {
            wide8(d, p + 2 * i, sh, mk, sc).intoArray(w, wo + i);
        }
        for (int i = vk; i < k; i++) {
            w[wo + i] = wide(d.getShort(p + 2 * i), sh, mk, sc);
        }
    }

    private static void decodeRowQ80(ByteBuffer d, int p, int k, float[] w, int wo) {
        for (int i = 0; i < k; i += 32, p += 34) {
            float sc = half(d, p);
            for (int part = 0; part < 32; part += 8) {
                q8(d, p + 2 + part, sc).intoArray(w, wo + i + part);
            }
        }
    }

    private static void decodeRowQ40(ByteBuffer d, int p, int k, float[] w, int wo) {
        for (int i = 0; i < k; i += 32, p += 18) {
            float sc = half(d, p);
            ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 2, LE);
            for (int part = 0; part < 4; part++) {
                floats(q4(qs, part, 8))
                        .mul(sc).intoArray(w, wo + i + 8 * part);
            }
        }
    }

    private static void decodeRowQ41(ByteBuffer d, int p, int k, float[] w, int wo) {
        for (int i = 0; i < k; i += 32, p += 20) {
            float sc = half(d, p);
            float mn = half(d, p + 2);
            ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 4, LE);
            for (int part = 0; part < 4; part++) {
                floats(q4(qs, part, 0))
                        .mul(sc).add(mn).intoArray(w, wo + i + 8 * part);
            }
        }
    }

    private static void decodeRowQ50(ByteBuffer d, int p, int k, float[] w, int wo) {
        for (int i = 0; i < k; i += 32, p += 22) {
            float sc = half(d, p);
            int qh = d.getInt(p + 2);
            ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 6, LE);
            for (int part = 0; part < 4; part++) {
                floats(q5(qs, qh, part, 16))
                        .mul(sc).intoArray(w, wo + i + 8 * part);
            }
        }
    }

    private static void decodeRowQ51(ByteBuffer d, int p, int k, float[] w, int wo) {
        for (int i = 0; i < k; i += 32, p += 24) {
            float sc = half(d, p);
            float mn = half(d, p + 2);
            int qh = d.getInt(p + 4);
            ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 8, LE);
            for (int part = 0; part < 4; part++) {
                floats(q5(qs, qh, part, 0))
                        .mul(sc).add(mn).intoArray(w, wo + i + 8 * part);
            }
        }
    }

    // ---- decoders of 8 values

    /**
     * How a 16-bit float type widens to float, in three exact operations on its sign-extended bits: shifted
     * left, masked, multiplied.
     * <ul>
     *   <li>FP16, for halves known to be finite (no exponent 31; {@link Matrix#finiteHalves()}), subnormals
     *       included: the half shifted left by 13 has the sign in bit 31 and exponent+mantissa in bits 13-27;
     *       masking out bits 28-30 leaves a float that is the half's value times 2^-112, and the
     *       multiplication by 2^112 is exact.</li>
     *   <li>BF16, the top half of a float32: shifted left by 16 it is that float; the mask keeps every bit
     *       and the multiplication by 1 changes no value (a NaN stays a NaN), so every bfloat16 decodes
     *       exactly, infinities included.</li>
     * </ul>
     * One decoder with the three constants as parameters serves both types, so each path has one loop nest
     * for both; for BF16 it spends an AND and a multiplication it does not need, the operations FP16 needs.
     * The constants are read into locals before each loop, where they stay in registers.
     */
    static final class Widening {
        static final Widening FP16 = new Widening(13, 0x8FFFE000, 0x1p112f);
        static final Widening BF16 = new Widening(16, -1, 1f);

        final int shift;
        final int mask;
        final float scale;

        private Widening(int shift, int mask, float scale) {
            this.shift = shift;
            this.mask = mask;
            this.scale = scale;
        }

        /** The widening of FP16 or BF16 values. */
        static Widening of(TensorType type) {
            return type == TensorType.BF16 ? BF16 : FP16;
        }
    }

    /** Eight 16-bit floats at byte {@code p}, widened by a {@link Widening}'s shift, mask and scale. */
    private static FloatVector wide8(ByteBuffer d, int p, int shift, int mask, float scale) {
        IntVector h = (IntVector) ShortVector.fromByteBuffer(S, d, p, LE).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(scale);
    }

    /** As {@link #wide8(ByteBuffer, int, int, int, float)}, from 16-bit floats on the heap. */
    private static FloatVector wide8(short[] d, int p, int shift, int mask, float scale) {
        IntVector h = (IntVector) ShortVector.fromArray(S, d, p).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(scale);
    }

    /** One 16-bit float widened as {@link #wide8(ByteBuffer, int, int, int, float)} widens eight. */
    private static float wide(short h, int shift, int mask, float scale) {
        return Float.intBitsToFloat((h << shift) & mask) * scale;
    }

    /** The (finite) half at byte {@code p}, a block's scale or minimum, as {@link Widening#FP16} widens it. */
    private static float half(ByteBuffer d, int p) {
        return Float.intBitsToFloat((d.getShort(p) << 13) & 0x8FFFE000) * 0x1p112f;
    }

    private static FloatVector floats(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /**
     * Eight Q8_0 quants at {@code qs[p]} times their block's scale: {@code q*d}. Eight bytes loaded on their
     * own and widened (one load-and-extend instruction) ran twice as fast as one 32-byte load whose four
     * parts are then extracted.
     */
    private static FloatVector q8(byte[] qs, int p, float scale) {
        return ((FloatVector) ByteVector.fromArray(B8, qs, p).convertShape(VectorOperators.B2F, F, 0)).mul(scale);
    }

    /** As {@link #q8(byte[], int, float)}, from the mapped bytes. */
    private static FloatVector q8(ByteBuffer d, int p, float scale) {
        return ((FloatVector) ByteVector.fromByteBuffer(B8, d, p, LE).convertShape(VectorOperators.B2F, F, 0)).mul(scale);
    }

    /**
     * The 4-bit values of part {@code part} of a block's 16 bytes of nibbles {@code qs}, minus
     * {@code offset}: parts 0 and 1 are the low nibbles of bytes 0-7 and 8-15, parts 2 and 3 their high nibbles.
     */
    private static IntVector q4(ByteVector qs, int part, int offset) {
        IntVector b = (IntVector) qs.convertShape(VectorOperators.B2I, I, part & 1);
        IntVector nibble = part < 2 ? b.and(0x0F) : b.lanewise(VectorOperators.ASHR, 4).and(0x0F);
        return offset == 0 ? nibble : nibble.sub(offset);
    }

    /** As {@link #q4} with the fifth bit of value e taken from bit e of {@code qh}. */
    private static IntVector q5(ByteVector qs, int qh, int part, int offset) {
        IntVector high = IntVector.broadcast(I, qh >>> (8 * part)).lanewise(VectorOperators.LSHR, LANE)
                .and(1).lanewise(VectorOperators.LSHL, 4);
        IntVector q = q4(qs, part, 0).or(high);
        return offset == 0 ? q : q.sub(offset);
    }
}
