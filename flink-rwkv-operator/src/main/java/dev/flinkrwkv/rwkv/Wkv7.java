package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.MatMulKernel;

/**
 * The WKV recurrence of RWKV-7 (the generalized delta rule) for one token of one state, after rwkv.cpp's
 * {@code rwkv_wkv_v7}: per head a matrix {@code St[i][j]} (i = value channel, j = key channel), with
 * {@code a = -kk} (the normalized key, negated) and {@code b = kk * iclr} (times the in-context learning
 * rate):
 * <pre>
 *   sa       = sum_j St[i][j] * a[j]                       (the state's prediction along kk)
 *   St'[i][j] = St[i][j]*w[j] + v[i]*k[j] + sa * b[j]
 *   y[i]     = sum_j St'[i][j] * r[j]
 *            = sum_j St[i][j] * (w[j]*r[j])  +  v[i] * (k . r)  +  sa * (b . r)
 * </pre>
 * Why it is written this way (the straightforward loops were a large share of a batch-64 step):
 * <ul>
 *   <li>y is read from the old row by the last identity, so both sums over j (sa and y) are taken in one
 *       pass over the row, and {@code k . r}, {@code b . r}, {@code w*r} are computed once per head;
 *   <li>the two sums are {@link #rowDots2}, for a whole head at a time: with the Vector API
 *       ({@link VectorWkv7}) one vector accumulator each; in plain Java (this class) four partial sums each
 *       ({@code j mod 4}), since one float accumulator is a chain of dependent adds and C2 does not
 *       vectorize a float reduction;
 *   <li>the update ({@link #rowUpdates}) has no reduction: both forms take this class's plain-Java loop
 *       through a scratch row, which C2's loop vectorizer needs (why not the Vector API: {@link VectorWkv7}).
 * </ul>
 * The order of every sum depends only on the head size and on the process's matrix kernel (the Vector API
 * form runs with the Vector API matrix kernel), so a key gets the same bits in any batch and on any thread.
 * Each loop nest is a method of its own so that C2 compiles it on its own.
 */
class Wkv7 {
    private static final Wkv7 SCALAR = new Wkv7();
    /** The Vector API form, loaded by name only when the Vector API matrix kernel exists. */
    private static final Wkv7 VECTOR = loadVector();

    Wkv7() {}

    private static Wkv7 loadVector() {
        if (MatMulKernel.vector() == null) {
            return null;
        }
        try {
            return (Wkv7) Class.forName("dev.flinkrwkv.rwkv.VectorWkv7").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null;
        }
    }

    /** The plain-Java form. */
    static Wkv7 scalar() {
        return SCALAR;
    }

    /** The Vector API form, or null where the Vector API matrix kernel is unavailable. */
    static Wkv7 vector() {
        return VECTOR;
    }

    /** The form that goes with a matrix kernel: the Vector API one with the Vector API kernel. */
    static Wkv7 forKernel(MatMulKernel kernel) {
        return kernel == MatMulKernel.vector() && VECTOR != null ? VECTOR : SCALAR;
    }

    /**
     * @param s    the flat state; this layer's heads start at {@code at}
     * @param o    offset of this token's r, w, k, v, kk, b, wr and y (C values each)
     * @param kk   the normalized key (a = -kk)
     * @param b    kk times the in-context learning rate
     * @param wr   {@code w * r}, element-wise
     * @param saOut scratch for the heads' sa, this token's own
     */
    static void step(float[] s, int at, int heads, int size, float[] r, float[] w, float[] k, float[] v,
                     float[] kk, float[] b, float[] wr, float[] y, float[] saOut, int o) {
        Wkv7 kernel = forKernel(MatMulKernel.get());
        for (int h = 0; h < heads; h++) {
            int ho = o + h * size;
            int hs = at + h * size * size;
            float kr = dot(k, ho, r, ho, size);
            float br = dot(b, ho, r, ho, size);
            // sa's negation (saOut) and the old rows' part of y for the whole head, one pass over each row
            kernel.rowDots2(s, hs, size, size, kk, wr, ho, saOut, y, ho);
            for (int i = 0; i < size; i++) {
                y[ho + i] = (y[ho + i] + v[ho + i] * kr) - saOut[ho + i] * br;
            }
            // St' = St*w + v k^T + sa b^T (sa = -saOut; subtracting saOut*b is the same float as adding sa*b)
            kernel.rowUpdates(s, hs, size, size, w, k, b, ho, v, ho, saOut, ho);
        }
    }

    /** {@code sum_j x[xo+j] * z[zo+j]} as four partial sums (j mod 4), added pairwise at the end. */
    static float dot(float[] x, int xo, float[] z, int zo, int n) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int j = 0;
        for (; j <= n - 4; j += 4) {
            s0 += x[xo + j] * z[zo + j];
            s1 += x[xo + j + 1] * z[zo + j + 1];
            s2 += x[xo + j + 2] * z[zo + j + 2];
            s3 += x[xo + j + 3] * z[zo + j + 3];
        }
        for (; j < n; j++) {
            s0 += x[xo + j] * z[zo + j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * Two dot products of each of {@code rows} consecutive rows of {@code n} values (row r at
     * {@code s[so + r*n]}): {@code outU[oo + r] = sum_j row[j] * u[uo + j]} and {@code outV[oo + r] = sum_j
     * row[j] * v[uo + j]}, summed in an order that depends only on {@code n} (the per-head state reads).
     * Here four partial sums each (j mod 4): one float accumulator would be a chain of dependent adds.
     */
    void rowDots2(float[] s, int so, int rows, int n, float[] u, float[] v, int uo, float[] outU, float[] outV, int oo) {
        for (int r = 0; r < rows; r++) {
            int row = so + r * n;
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
            int j = 0;
            for (; j <= n - 4; j += 4) {
                float s0 = s[row + j], s1 = s[row + j + 1], s2 = s[row + j + 2], s3 = s[row + j + 3];
                a0 += s0 * u[uo + j];
                a1 += s1 * u[uo + j + 1];
                a2 += s2 * u[uo + j + 2];
                a3 += s3 * u[uo + j + 3];
                b0 += s0 * v[uo + j];
                b1 += s1 * v[uo + j + 1];
                b2 += s2 * v[uo + j + 2];
                b3 += s3 * v[uo + j + 3];
            }
            for (; j < n; j++) {
                a0 += s[row + j] * u[uo + j];
                b0 += s[row + j] * v[uo + j];
            }
            outU[oo + r] = (a0 + a1) + (a2 + a3);
            outV[oo + r] = (b0 + b1) + (b2 + b3);
        }
    }

    private static final ThreadLocal<float[]> TMP = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * The per-head state update, for each of {@code rows} consecutive rows of {@code n} values (row i at
     * {@code s[so + i*n]}), in place: {@code row[j] = (row[j]*w[uo+j] + v[vo+i]*k[uo+j]) - sa[ao+i]*b[uo+j]},
     * every product and sum rounded on its own (no fused multiply-add), so both forms give the same bits.
     *
     * <p>Here each row goes through a scratch copy: C2 vectorizes a loop that stores into one array and
     * loads from others only when all are indexed alike (else it cannot rule out that the store overlaps a
     * later load), and {@code s[row + j]} is not indexed like {@code w[uo + j]}.
     */
    void rowUpdates(float[] s, int so, int rows, int n, float[] w, float[] k, float[] b, int uo,
                    float[] v, int vo, float[] sa, int ao) {
        float[] tmp = TMP.get();
        if (tmp.length < uo + n) {
            tmp = new float[uo + n];
            TMP.set(tmp);
        }
        for (int i = 0; i < rows; i++) {
            int row = so + i * n;
            float vi = v[vo + i], si = sa[ao + i];
            System.arraycopy(s, row, tmp, uo, n);
            for (int j = 0; j < n; j++) {
                tmp[uo + j] = (tmp[uo + j] * w[uo + j] + vi * k[uo + j]) - si * b[uo + j];
            }
            System.arraycopy(tmp, uo, s, row, n);
        }
    }
}
