package dev.flinkrwkv.rwkv;

/**
 * The WKV recurrence of RWKV-5 and RWKV-6 for one token of one state: per head, a matrix
 * {@code St[i][j]} (i = key channel, j = value channel) that decays per key channel and accumulates the
 * outer product {@code k v^T}; the output reads the old state plus the current token's bonus {@code u}.
 * <pre>
 *   y[j]     = sum_i r[i] * (u[i]*k[i]*v[j] + St[i][j])
 *   St[i][j] = St[i][j]*w[i] + k[i]*v[j]
 * </pre>
 */
final class Wkv5 {
    private Wkv5() {}

    /**
     * @param s     the flat state; this layer's heads start at {@code at}
     * @param o     offset of this token's r, k, v, y (C values each)
     * @param u     bonus per channel (C values at 0)
     * @param w     decay multiplier per channel, at {@code wo}
     */
    static void step(float[] s, int at, int heads, int size, float[] r, float[] k, float[] v, float[] u,
                     float[] w, int wo, float[] y, int o) {
        int c = heads * size;
        java.util.Arrays.fill(y, o, o + c, 0f);
        for (int h = 0; h < heads; h++) {
            int hc = h * size;
            int hs = at + h * size * size;
            for (int i = 0; i < size; i++) {
                int ch = hc + i;
                float ki = k[o + ch], ri = r[o + ch], ui = u[ch], wi = w[wo + ch];
                int row = hs + i * size;
                for (int j = 0; j < size; j++) {
                    float kv = ki * v[o + hc + j];
                    float st = s[row + j];
                    y[o + hc + j] += ri * (kv * ui + st);
                    s[row + j] = st * wi + kv;
                }
            }
        }
    }
}
