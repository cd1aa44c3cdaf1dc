package dev.flinkrwkv.rwkv;

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
 *   <li>the sums keep four partial sums each ({@code j mod 4}): one float accumulator is a chain of
 *       dependent adds, latency-bound, and C2 does not vectorize a float reduction (it would reorder it);
 *   <li>the update has no reduction, but C2 vectorizes a loop that stores into one array and loads from
 *       others only when all are indexed alike (else it cannot rule out that the store overlaps a later
 *       load); {@code s[row + j]} is not indexed like {@code w[ho + j]}, so the row is updated in
 *       {@code tmp} at the token's offset and copied back.
 * </ul>
 * The order of every sum depends only on the head size, so a key gets the same bits in any batch and on
 * any thread.
 */
final class Wkv7 {
    private Wkv7() {}

    /**
     * @param s    the flat state; this layer's heads start at {@code at}
     * @param o    offset of this token's r, w, k, v, kk, b, wr, y and tmp (C values each)
     * @param kk   the normalized key (a = -kk)
     * @param b    kk times the in-context learning rate
     * @param wr   {@code w * r}, element-wise
     * @param tmp  scratch, this token's own
     */
    static void step(float[] s, int at, int heads, int size, float[] r, float[] w, float[] k, float[] v,
                     float[] kk, float[] b, float[] wr, float[] y, float[] tmp, int o) {
        for (int h = 0; h < heads; h++) {
            int ho = o + h * size;
            int hs = at + h * size * size;
            float kr = dot(k, ho, r, ho, size);
            float br = dot(b, ho, r, ho, size);
            for (int i = 0; i < size; i++) {
                int row = hs + i * size;
                // sa and the old row's part of y, in one pass, four partial sums each
                float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, y0 = 0f, y1 = 0f, y2 = 0f, y3 = 0f;
                int j = 0;
                for (; j <= size - 4; j += 4) {
                    float s0 = s[row + j], s1 = s[row + j + 1], s2 = s[row + j + 2], s3 = s[row + j + 3];
                    a0 += s0 * kk[ho + j];
                    a1 += s1 * kk[ho + j + 1];
                    a2 += s2 * kk[ho + j + 2];
                    a3 += s3 * kk[ho + j + 3];
                    y0 += s0 * wr[ho + j];
                    y1 += s1 * wr[ho + j + 1];
                    y2 += s2 * wr[ho + j + 2];
                    y3 += s3 * wr[ho + j + 3];
                }
                for (; j < size; j++) {
                    a0 += s[row + j] * kk[ho + j];
                    y0 += s[row + j] * wr[ho + j];
                }
                float sa = -((a0 + a1) + (a2 + a3));
                float vi = v[ho + i];
                y[ho + i] = (((y0 + y1) + (y2 + y3)) + vi * kr) + sa * br;

                System.arraycopy(s, row, tmp, ho, size);
                for (j = 0; j < size; j++) {
                    tmp[ho + j] = (tmp[ho + j] * w[ho + j] + vi * k[ho + j]) + sa * b[ho + j];
                }
                System.arraycopy(tmp, ho, s, row, size);
            }
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
