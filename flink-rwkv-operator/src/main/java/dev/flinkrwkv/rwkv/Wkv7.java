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
 * Why it is written this way (about 1.5x the straightforward loops, which were 15% of a batch-64 step):
 * <ul>
 *   <li>y is read from the old row by the last identity, so both sums over j (sa and y) are taken in one
 *       pass over the row, and {@code k . r}, {@code b . r}, {@code w*r} are computed once per head;
 *   <li>the two sums are {@link MatMulKernel#rowDots2}, for a whole head at a time: with the Vector API one
 *       vector accumulator each; in plain Java four partial sums each ({@code j mod 4}), since one float
 *       accumulator is a chain of dependent adds and C2 does not vectorize a float reduction;
 *   <li>the update ({@link MatMulKernel#rowUpdates}) has no reduction: the vector kernel updates the rows
 *       in place; the plain-Java one through a scratch row, which C2's loop vectorizer needs.
 * </ul>
 * The order of every sum depends only on the head size (and the process's kernel), so a key gets the same
 * bits in any batch and on any thread.
 */
final class Wkv7 {
    private Wkv7() {}

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
        MatMulKernel kernel = MatMulKernel.get();
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
}
