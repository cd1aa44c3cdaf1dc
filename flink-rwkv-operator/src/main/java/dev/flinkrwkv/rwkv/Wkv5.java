package dev.flinkrwkv.rwkv;

/**
 * The WKV recurrence of RWKV-5 and RWKV-6 for one token of one state: per head, a matrix
 * {@code St[i][j]} (i = key channel, j = value channel) that decays per key channel and accumulates the
 * outer product {@code k v^T}; the output reads the old state plus the current token's bonus {@code u}.
 * <pre>
 *   y[j]     = sum_i r[i] * (u[i]*k[i]*v[j] + St[i][j])
 *   St[i][j] = St[i][j]*w[i] + k[i]*v[j]
 * </pre>
 * Each state row is updated in {@code tmp}, at the token's offset, and copied back: C2 vectorizes a loop
 * that stores into one array and loads from others only when all are indexed alike (else it cannot rule
 * out that a store overlaps a later load), and {@code s[row + j]} is not indexed like {@code v[o + j]}.
 * Same operations in the same order, so the same bits.
 */
final class Wkv5 {
    private Wkv5() {}

    /**
     * @param s     the flat state; this layer's heads start at {@code at}
     * @param o     offset of this token's r, k, v, y (C values each)
     * @param u     bonus per channel (C values at 0)
     * @param w     decay multiplier per channel, at {@code wo}
     * @param tmp   scratch, C values at {@code o}, this token's own
     */
    static void step(float[] s, int at, int heads, int size, float[] r, float[] k, float[] v, float[] u,
                     float[] w, int wo, float[] y, float[] tmp, int o) {
        int c = heads * size;
        java.util.Arrays.fill(y, o, o + c, 0f);
        for (int h = 0; h < heads; h++) {
            int hc = h * size;
            int hs = at + h * size * size;
            int ho = o + hc;
            for (int i = 0; i < size; i++) {
                int ch = hc + i;
                float ki = k[o + ch], ri = r[o + ch], ui = u[ch], wi = w[wo + ch];
                int row = hs + i * size;
                System.arraycopy(s, row, tmp, ho, size);
                for (int j = 0; j < size; j++) {
                    float kv = ki * v[ho + j];
                    float st = tmp[ho + j];
                    y[ho + j] += ri * (kv * ui + st);
                    tmp[ho + j] = st * wi + kv;
                }
                System.arraycopy(tmp, ho, s, row, size);
            }
        }
    }
}
